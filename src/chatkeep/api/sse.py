"""Server-sent events: an answer's stored events as SSE frames, with keep-alive pings.

Frames are pulled by the ASGI server as the client reads, so a slow client holds one
event in memory, never a queue of them (the events wait in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse

from chatkeep.core.answering.records import AnswerEvent
from chatkeep.core.errors import InvalidArgument

MEDIA_TYPE = "text/event-stream"
PING = b": ping\n\n"


def frame(event: AnswerEvent) -> bytes:
    return f"id: {event.id}\nevent: {event.type}\ndata: {event.data}\n\n".encode()


async def with_pings(
    chunks: AsyncIterator[bytes], ping_seconds: float, *, close: object = None
) -> AsyncIterator[bytes]:
    """``chunks``, with a ``: ping`` comment whenever ``ping_seconds`` pass without one
    (every dialect's stream: a client's read timeout never fires while the model thinks).
    ``chunks`` and ``close`` (the events under them) are closed however the stream ends."""
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
        for source in (chunks, close):
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()


def stream_response(chunks: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPE,
        # No caching, and no proxy buffering (nginx honours X-Accel-Buffering).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def event_stream(events: AsyncIterator[AnswerEvent], ping_seconds: float) -> StreamingResponse:
    return stream_response(with_pings((frame(e) async for e in events), ping_seconds, close=events))


def last_event_id(header: str | None) -> int:
    """``Last-Event-ID`` (or ``after``) as every dialect's re-attach reads it: empty means
    from the start."""
    if header is None or not header.strip():
        return 0
    try:
        value = int(header.strip())
    except ValueError:
        raise InvalidArgument("Last-Event-ID", "must be an event id (an integer)") from None
    if value < 0:
        raise InvalidArgument("Last-Event-ID", "must not be negative")
    return value
