"""The OpenAI-compatible client against a scripted server that speaks the streaming format."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from chatkeep.core.answering.ports import ChatMessage, Finished, LLMEvent, TextDelta
from chatkeep.core.errors import ProviderError
from chatkeep.providers.openai_compat import ClientConfig, OpenAICompatLLM
from chatkeep.settings import Settings
from tests.answers_support import Script, scripted_provider

pytestmark = pytest.mark.anyio
QUESTION = [ChatMessage("user", "hi")]
API_KEY = "sk-test-never-logged"


def _client(base_url: str, **overrides: object) -> OpenAICompatLLM:
    settings = Settings(
        llm_model="m", llm_api_key=SecretStr(API_KEY), llm_first_token_timeout_seconds=1,
        llm_max_tokens=7, llm_temperature=0.5, **overrides,  # type: ignore[arg-type]
    )  # fmt: skip
    return OpenAICompatLLM(ClientConfig.of(settings, base_url))


async def _collect(llm: OpenAICompatLLM) -> list[LLMEvent]:
    try:
        return [item async for item in llm.stream(QUESTION)]
    finally:
        await llm.aclose()


async def test_streams_deltas_then_usage_and_sends_the_request() -> None:
    script = Script(tokens=["Hel", "lo"])
    with scripted_provider(script) as url:
        items = await _collect(_client(url))
    assert items[:2] == [TextDelta("Hel"), TextDelta("lo")]
    assert items[2] == Finished("scripted-model", 42, 4, "stop")
    sent = script.requests[0]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == ("m", 7, 0.5)
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert script.authorization == [f"Bearer {API_KEY}"]


def test_the_api_key_is_not_in_the_configs_repr() -> None:
    config = ClientConfig.of(Settings(llm_api_key=SecretStr(API_KEY)), "http://x/v1")
    assert API_KEY not in repr(config)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [("http429", "rate_limited"), ("http500", "unavailable"), ("garbage", "bad_response"),
     ("slow", "timeout"), ("truncated", "bad_response")],
)  # fmt: skip
async def test_failures_are_provider_errors_with_a_reason(mode: str, reason: str) -> None:
    with scripted_provider(Script(mode=mode)) as url, pytest.raises(ProviderError) as caught:
        await _collect(_client(url))
    assert caught.value.reason == reason
    assert API_KEY not in caught.value.message


async def test_an_unreachable_provider_is_unavailable() -> None:
    with pytest.raises(ProviderError) as caught:
        await _collect(_client("http://127.0.0.1:9/v1"))
    assert caught.value.reason == "unavailable"


async def test_a_whole_answer_deadline_applies_after_the_first_token() -> None:
    script = Script(tokens=["a", "b", "c"], delay=0.6)
    with scripted_provider(script) as url, pytest.raises(ProviderError) as caught:
        await _collect(_client(url, llm_answer_timeout_seconds=0.5))
    assert caught.value.reason == "timeout" and "whole answer" in caught.value.message
