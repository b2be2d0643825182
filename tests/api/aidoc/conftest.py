"""The answer tests' fixtures (a scripted provider, a library, real workers), for Chat."""

from tests.answers.conftest import library, provider_url, script, start_worker

__all__ = ["library", "provider_url", "script", "start_worker"]
