"""The chat stream on the wire: each frame one SSE ``data:`` line, pings while it is quiet.

No ``event:`` lines: every frame is a default "message" event, so a browser's
``EventSource.onmessage`` sees them all and a client tells them apart by ``type``, as
AISquare documents. Only the last frame of a group carries an ``id`` (see
chat_stream_frames), which is what ``Last-Event-ID`` re-attaches after.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import orjson
from starlette.responses import StreamingResponse

from chatkeep.api.aisquare.chat_stream_frames import Frame
from chatkeep.api.sse import stream_response, with_pings
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


def chat_event_stream(
    events: AsyncIterator[AnswerEvent], render: RenderEvent, answer_id: str, ping_seconds: float
) -> StreamingResponse:
    return stream_response(with_pings(rendered(events, render, answer_id), ping_seconds))
