"""How an answer leaves Chat (one JSON body) and ChatStream (server-sent events).

Both are silent only while the model is: the SDK gives up after 10 s without a byte
(its default read timeout), so a keep-alive goes out every ``ping_seconds`` (at most 5).
ChatStream's are SSE comments (``: ping``), which the SDK's parser skips. Chat's are
spaces before the JSON, which ``json.loads`` skips; the first one commits the response
to 200, so an answer that fails before it gets a proper error status, and one that fails
after it a 200 whose ``data.answer`` says so (the SDK drops ``code`` from a 200 body).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from chatkeep.api.aidoc.answer_items import (
    FAILURES,
    ChatContext,
    DocumentUrl,
    chat_item,
    failure,
    ref_doc_list,
    stream_shards,
)
from chatkeep.api.aidoc.schemas import millis
from chatkeep.api.sse import event_stream
from chatkeep.core.answering.records import AnswerEvent

log = logging.getLogger("chatkeep.aidoc")
KEEP_ALIVE = b" "
LOST = "the server could not read the answer's progress; read it with GetChatList"


def answer_stream(
    events: AsyncIterator[AnswerEvent], context: ChatContext, request_id: str,
    url: DocumentUrl, ping_seconds: float,
) -> StreamingResponse:  # fmt: skip
    """ChatStream: one shard per answer event, as frames the SDK's readers parse."""
    return event_stream(_shards(events, context, request_id, url), ping_seconds)


async def _shards(
    events: AsyncIterator[AnswerEvent], context: ChatContext, request_id: str, url: DocumentUrl
) -> AsyncIterator[AnswerEvent]:
    last_id = 0
    try:
        async for event in events:
            last_id = event.id
            data = orjson.loads(event.data)
            if event.type == "question":
                context = asked_at(context, data)
                continue
            shards = stream_shards(
                event.type, event.id, data, context=context, request_id=request_id, url=url
            )
            for shard in shards:
                # Without an event name the SDK reports "message": say it, as it would.
                yield AnswerEvent(shard.id, shard.event or "message", _dumps(shard.data))
    except Exception:  # after the 200: only an error event can still say so
        log.exception("ChatStream %s lost its answer's events", request_id)
        yield AnswerEvent(
            last_id + 1, "error", _dumps(failure(context, "failed", LOST, request_id))
        )


def asked_at(context: ChatContext, question_event: dict[str, Any]) -> ChatContext:
    """The question's own time, as GetChatList shows it (the ``question`` event has it)."""
    created = datetime.fromisoformat(question_event["question"]["created_at"])
    return dataclasses.replace(context, create_time=millis(created))


@dataclass(frozen=True, slots=True)
class Outcome:
    """How an answer ended, rendered for both cases: before any byte went out (an error
    status may still be chosen), and after a keep-alive committed the response to 200."""

    status: int
    body: dict[str, Any]
    after_keep_alive: dict[str, Any]


async def outcome(
    events: AsyncIterator[AnswerEvent], context: ChatContext, request_id: str, url: DocumentUrl
) -> Outcome:
    async for event in events:
        data = orjson.loads(event.data)
        if event.type == "question":
            context = asked_at(context, data)
        elif event.type == "done" and data["answer"]["status"] != "complete":  # cancelled
            return _failed(context, data["answer"]["status"], data["answer"]["error"], request_id)
        elif event.type == "done":
            answer = data["answer"]
            refs = ref_doc_list(answer["references"], url)
            body = {"requestId": request_id, "data": chat_item(context, answer["content"], refs)}
            return Outcome(200, body, body)
        elif event.type == "error":
            return _failed(context, data["status"], data.get("reason"), request_id)
    return _failed(context, "incomplete", None, request_id)  # pragma: no cover - tails end


def _failed(context: ChatContext, status: str, reason: str | None, request_id: str) -> Outcome:
    shown = failure(context, status, reason, request_id)
    _, http_status = FAILURES.get(status, FAILURES["failed"])
    error = {"requestId": request_id, "code": shown["code"], "message": shown["message"]}
    return Outcome(http_status, error, shown)


def finished_answer(
    events: AsyncIterator[AnswerEvent], context: ChatContext, request_id: str,
    url: DocumentUrl, ping_seconds: float,
) -> Response:  # fmt: skip
    """Chat: the finished ChatItem, kept alive while the model thinks."""
    return KeptAliveJson(events, context, request_id, url, ping_seconds)


class KeptAliveJson(Response):
    media_type = "application/json"

    def __init__(
        self, events: AsyncIterator[AnswerEvent], context: ChatContext, request_id: str,
        url: DocumentUrl, ping_seconds: float,
    ) -> None:  # fmt: skip
        super().__init__()
        # The length is known only when the answer is; a kept-alive body is chunked.
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        self._events, self._context, self._request_id = events, context, request_id
        self._url, self._ping = url, ping_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        waiting = asyncio.ensure_future(
            outcome(self._events, self._context, self._request_id, self._url)
        )
        started = False
        try:
            while not (await asyncio.wait({waiting}, timeout=self._ping))[0]:
                if not started:
                    await self._start(send, 200)
                    started = True
                await send({"type": "http.response.body", "body": KEEP_ALIVE, "more_body": True})
            status, payload = self._result(waiting, started)
            if not started:
                headers = [(b"content-length", str(len(payload)).encode())]
                await self._start(send, status, headers)
            await send({"type": "http.response.body", "body": payload})
        finally:
            if not waiting.done():  # the client went away: the answer goes on without it
                waiting.cancel()
                with contextlib.suppress(BaseException):
                    await waiting

    def _result(self, waiting: asyncio.Future[Outcome], started: bool) -> tuple[int, bytes]:
        try:
            ended = waiting.result()
        except Exception:
            log.exception("Chat %s lost its answer's events", self._request_id)
            ended = _failed(self._context, "incomplete", LOST, self._request_id)
            ended = dataclasses.replace(ended, status=503)
        if started:
            return 200, orjson.dumps(ended.after_keep_alive)
        return ended.status, orjson.dumps(ended.body)

    async def _start(
        self, send: Send, status: int, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [*self.raw_headers, *(extra or [])]
        await send({"type": "http.response.start", "status": status, "headers": headers})


def _dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()
