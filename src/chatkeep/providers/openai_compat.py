"""One streaming chat client for every OpenAI-compatible server.

OpenAI, DashScope's compatible mode, vLLM, Ollama, LM Studio and llama.cpp's own server
all speak ``POST {base}/chat/completions`` with ``stream: true``: server-sent events whose
``data:`` lines are JSON chunks (``choices[0].delta.content``), a usage chunk when asked
for with ``stream_options.include_usage``, and a final ``data: [DONE]``. Every way that can
go wrong becomes a ``ProviderError`` with a short reason; the API key is only ever put in
the Authorization header (httpx does not log headers).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from chatkeep.core.answering.ports import ChatMessage, Finished, LLMEvent, TextDelta
from chatkeep.core.errors import ProviderError
from chatkeep.settings import Settings


@dataclass(frozen=True, slots=True)
class ClientConfig:
    base_url: str  # up to and including /v1
    model: str
    api_key: str | None
    connect_timeout: float
    first_token_timeout: float
    answer_timeout: float
    max_tokens: int
    temperature: float

    @classmethod
    def of(cls, settings: Settings, base_url: str) -> ClientConfig:
        key = settings.llm_api_key
        return cls(
            base_url=base_url.rstrip("/"),
            model=settings.llm_model,
            api_key=key.get_secret_value() if key is not None else None,
            connect_timeout=settings.llm_connect_timeout_seconds,
            first_token_timeout=settings.llm_first_token_timeout_seconds,
            answer_timeout=settings.llm_answer_timeout_seconds,
            max_tokens=settings.llm_max_tokens,
            temperature=settings.llm_temperature,
        )

    def __repr__(self) -> str:  # never show the key in a traceback or a log line
        return f"ClientConfig(base_url={self.base_url!r}, model={self.model!r})"


class OpenAICompatLLM:
    """The ``LLM`` port over an OpenAI-compatible ``/chat/completions`` endpoint."""

    def __init__(self, config: ClientConfig, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        # A stall between chunks after the first token is bounded by the read timeout.
        timeout = httpx.Timeout(
            config.first_token_timeout, connect=config.connect_timeout, pool=None
        )
        self._client = client or httpx.AsyncClient(timeout=timeout, trust_env=False)

    @property
    def model(self) -> str:
        return self._config.model

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[LLMEvent]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._config.answer_timeout
        first_by = loop.time() + self._config.first_token_timeout
        try:
            async with self._client.stream(
                "POST", f"{self._config.base_url}/chat/completions",
                content=orjson.dumps(self._body(messages)), headers=self._headers(),
            ) as response:  # fmt: skip
                await _check_status(response)
                async for event in _events(response, deadline, first_by):
                    yield event
        except httpx.TimeoutException as exc:
            raise ProviderError("timeout", f"the LLM provider timed out ({_kind(exc)})") from None
        except httpx.HTTPError as exc:
            message = f"cannot reach the LLM provider: {_kind(exc)}"
            raise ProviderError("unavailable", message) from None

    def _body(self, messages: Sequence[ChatMessage]) -> dict[str, Any]:
        return {
            "model": self._config.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": self._config.max_tokens,
            "temperature": self._config.temperature,
        }

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._config.api_key:
            headers["Authorization"] = f"Bearer {self._config.api_key}"
        return headers


def _kind(exc: BaseException) -> str:
    return type(exc).__name__


async def _check_status(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    body = (await response.aread())[:300].decode("utf-8", "replace")
    detail = f"the LLM provider answered HTTP {response.status_code}"
    if response.status_code == 429:
        raise ProviderError("rate_limited", f"{detail} (rate limited)")
    if response.status_code >= 500:
        raise ProviderError("unavailable", detail)
    raise ProviderError("rejected", f"{detail}: {_error_message(body)}")


def _error_message(body: str) -> str:
    try:
        parsed = orjson.loads(body)
        message = parsed["error"]["message"] if isinstance(parsed.get("error"), dict) else None
    except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError):
        message = None
    return str(message or body or "no detail").splitlines()[0][:200]


async def _events(
    response: httpx.Response, deadline: float, first_by: float
) -> AsyncIterator[LLMEvent]:
    """The stream's text deltas, then one ``Finished`` (on [DONE] or the end of the body)."""
    loop = asyncio.get_running_loop()
    lines = response.aiter_lines()
    usage: dict[str, Any] = {}
    model: str | None = None
    finish: str | None = None
    seen_text = False
    while True:
        limit = min(deadline, deadline if seen_text else first_by) - loop.time()
        try:
            line = await asyncio.wait_for(anext(lines), timeout=max(limit, 0))
        except StopAsyncIteration:
            break
        except TimeoutError:
            what = "the whole answer" if seen_text else "the first token"
            raise ProviderError("timeout", f"the LLM provider was too slow ({what})") from None
        if not line.startswith("data:"):
            continue  # SSE comments, event names, blank separators
        data = line[5:].strip()
        if data == "[DONE]":
            break
        chunk = _parse_chunk(data)
        model = chunk.get("model") or model
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or ():
            text = (choice.get("delta") or {}).get("content")
            finish = choice.get("finish_reason") or finish
            if text:
                seen_text = True
                yield TextDelta(text)
    if finish is None and not usage:
        raise ProviderError("bad_response", "the LLM provider's stream ended without finishing")
    yield Finished(
        model=model,
        prompt_tokens=_int_or_none(usage.get("prompt_tokens")),
        completion_tokens=_int_or_none(usage.get("completion_tokens")),
        finish_reason=finish,
    )


def _parse_chunk(data: str) -> dict[str, Any]:
    try:
        chunk = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise ProviderError("bad_response", "the LLM provider sent a non-JSON event") from None
    if not isinstance(chunk, dict) or not isinstance(chunk.get("choices", []), list):
        raise ProviderError("bad_response", "the LLM provider sent an unexpected event")
    if chunk.get("error"):
        message = _error_message(orjson.dumps(chunk).decode())
        raise ProviderError("rejected", f"the LLM provider reported an error: {message}")
    return chunk


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) else None
