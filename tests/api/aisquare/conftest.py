"""The answer tests' fixtures (a scripted provider, a library, real servers) for the chat
stream's tests."""

from tests.answers.conftest import library, provider_url, script, start_worker

__all__ = ["library", "provider_url", "script", "start_worker"]
