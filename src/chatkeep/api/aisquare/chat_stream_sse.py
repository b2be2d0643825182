"""The chat stream on the wire: each frame one SSE ``data:`` line, pings while it is quiet.

No ``event:`` lines: every frame is a default "message" event, so a browser's
``EventSource.onmessage`` sees them all and a client tells them apart by ``type``, as
AISquare documents. Only the last frame of a group carries an ``id`` (see
chat_stream_frames), which is what ``Last-Event-ID`` re-attaches after.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import orjson
from starlette.responses import StreamingResponse

from chatkeep.api.aisquare.chat_stream_frames import Frame
from chatkeep.api.sse import MEDIA_TYPE, PING
from chatkeep.core.answering.records import AnswerEvent

log = logging.getLogger("chatkeep.aisquare")

RenderEvent = Callable[[AnswerEvent], list[Frame]]

INTERRUPTED = "The stream was interrupted; re-attach to continue the answer."


def encode(frame: Frame) -> bytes:
    head = b"" if frame.id is None else f"id: {frame.id}\n".encode()
    return head + b"data: " + orjson.dumps(frame.data) + b"\n\n"


async def rendered(
    events: AsyncIterator[AnswerEvent], render: RenderEvent, answer_id: str
) -> AsyncIterator[bytes]:
    """The events' frames; a failure to read them (the database went away) ends the stream
    with an ``error`` frame naming the answer, which goes on and can be re-attached to."""
    try:
        async for event in events:
            for frame in render(event):
                yield encode(frame)
    except Exception:
        log.exception("chat stream of answer %s interrupted", answer_id)
        error = {"type": "error", "status": "interrupted", "detail": INTERRUPTED,
                 "answer_id": answer_id}  # fmt: skip
        yield encode(Frame(error)) + encode(Frame({"type": "end"}))
    finally:
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


async def with_pings(chunks: AsyncIterator[bytes], ping_seconds: float) -> AsyncIterator[bytes]:
    """``chunks``, with a ``: ping`` comment whenever ``ping_seconds`` pass without one
    (api/sse.py does the same for native events)."""
    pending: asyncio.Task[bytes] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(chunks))
            done, _ = await asyncio.wait({pending}, timeout=ping_seconds)
            if not done:
                yield PING
                continue
            try:
                chunk = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield chunk
    finally:
        if pending is not None:  # the client went away while a chunk was awaited
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def chat_event_stream(
    events: AsyncIterator[AnswerEvent], render: RenderEvent, answer_id: str, ping_seconds: float
) -> StreamingResponse:
    return StreamingResponse(
        with_pings(rendered(events, render, answer_id), ping_seconds),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
