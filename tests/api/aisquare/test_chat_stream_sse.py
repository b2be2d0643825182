"""The chat stream's wire encoding, and its end when the answer's events cannot be read."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest

from chatkeep.api.aisquare.chat_stream_frames import Frame, frames_for
from chatkeep.api.aisquare.chat_stream_sse import INTERRUPTED, encode, rendered
from chatkeep.core.answering.records import AnswerEvent

pytestmark = pytest.mark.anyio


def test_a_frame_is_one_data_line_with_its_id_only_where_it_has_one() -> None:
    assert encode(Frame({"type": "end"}, 7)) == b'id: 7\ndata: {"type":"end"}\n\n'
    chinese = encode(Frame({"type": "token", "content": "巴黎\n"}))
    assert chinese.startswith(b"data: ") and chinese.count(b"\n") == 2  # newline escaped
    assert orjson.loads(chinese[6:])["content"] == "巴黎\n"


async def test_events_that_cannot_be_read_end_with_an_interrupted_error() -> None:
    closed: list[bool] = []

    async def events() -> AsyncIterator[AnswerEvent]:
        try:
            yield AnswerEvent(3, "delta", '{"answer_id": "a1", "text": "Par"}')
            raise ConnectionError("the database went away")
        finally:
            closed.append(True)

    def render(event: AnswerEvent) -> list[Frame]:
        return frames_for(event.type, event.id, orjson.loads(event.data), session_id=5)

    chunks = [chunk async for chunk in rendered(events(), render, "a1")]
    frames = [orjson.loads(c.split(b"data: ", 1)[1]) for c in b"".join(chunks).split(b"\n\n")
              if c]  # fmt: skip
    assert frames == [
        {"type": "token", "content": "Par"},
        {"type": "error", "status": "interrupted", "detail": INTERRUPTED, "answer_id": "a1"},
        {"type": "end"},
    ]
    assert closed == [True]
