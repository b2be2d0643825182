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

MEDIA_TYPE = "text/event-stream"
PING = b": ping\n\n"


def frame(event: AnswerEvent) -> bytes:
    return f"id: {event.id}\nevent: {event.type}\ndata: {event.data}\n\n".encode()


async def frames(events: AsyncIterator[AnswerEvent], ping_seconds: float) -> AsyncIterator[bytes]:
    """Each event as a frame; a ``: ping`` comment whenever ``ping_seconds`` pass without one."""
    pending: asyncio.Task[AnswerEvent] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=ping_seconds)
            if not done:
                yield PING
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            yield frame(event)
    finally:
        if pending is not None:  # the client went away while an event was awaited
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(events, "aclose", None)
        if aclose is not None:
            await aclose()


def event_stream(events: AsyncIterator[AnswerEvent], ping_seconds: float) -> StreamingResponse:
    return StreamingResponse(
        frames(events, ping_seconds),
        media_type=MEDIA_TYPE,
        # No caching, and no proxy buffering (nginx honours X-Accel-Buffering).
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
