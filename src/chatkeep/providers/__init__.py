"""LLM clients behind ``core/answering/ports.py``, and the embedded local model."""

from __future__ import annotations

from chatkeep.core.answering.ports import LLM
from chatkeep.providers.openai_compat import ClientConfig, OpenAICompatLLM
from chatkeep.settings import Settings


def build_llm(settings: Settings) -> LLM | None:
    """The configured provider's client; None when no base URL is known yet (answers then
    fail with a clear reason instead of the process refusing to start)."""
    if not settings.llm_base_url:
        return None
    return OpenAICompatLLM(ClientConfig.of(settings, settings.llm_base_url))
