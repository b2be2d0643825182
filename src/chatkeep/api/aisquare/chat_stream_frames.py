"""AISquare chat-stream frames, rendered from the core's answer events (docs/aisquare.md).

AISquare documents the frame *types* (start, token, complete, metadata, end, error) and
that each is a JSON object; the payloads below are chatkeep's contract. One core event can
become several frames (``done`` → complete, metadata, end): only the group's last frame
carries the SSE ``id``, so a client that drops inside a group re-attaches before it and
gets the whole group again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

TITLE_SUGGESTION_MAX = 60

# A signed, expiring URL that opens a document (api/document_links.py), by document id.
DocumentLink = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Frame:
    data: dict[str, Any]
    id: int | None = None


def frames_for(
    event_type: str,
    event_id: int,
    data: Mapping[str, Any],
    *,
    session_id: int,
    suggested_title: str | None = None,
    link: DocumentLink | None = None,
) -> list[Frame]:
    """The frames one answer event becomes (``references`` ride in ``metadata``).

    ``suggested_title`` goes into the final ``metadata`` (the adapter offers one for an
    untitled session, see ``suggest_title``); ``link`` gives each reference its ``url``.
    """
    frames: list[dict[str, Any]]
    if event_type == "question":
        question = data["question"]
        frames = [{"type": "start", "session_id": session_id, "answer_id": str(data["answer_id"]),
                   "user_message_id": question["id"]}]  # fmt: skip
    elif event_type == "delta":
        frames = [{"type": "token", "content": data["text"]}]
    elif event_type == "done":
        frames = _finished(data["answer"], session_id, suggested_title, link)
    elif event_type == "error":
        frames = [
            {"type": "error", "status": data["status"], "detail": data["reason"],
             "answer_id": str(data["answer_id"])},
            {"type": "end"},
        ]  # fmt: skip
    else:
        return []
    rendered = [Frame(frame) for frame in frames]
    rendered[-1] = Frame(frames[-1], event_id)
    return rendered


def _finished(
    answer: Mapping[str, Any], session_id: int, title: str | None, link: DocumentLink | None
) -> list[dict[str, Any]]:
    references = [
        {**ref, "url": link(ref["document_id"])} if link else dict(ref)
        for ref in answer["references"]
    ]
    return [
        {"type": "complete", "status": answer["status"], "content": answer["content"],
         "message_id": answer["message_id"]},
        {"type": "metadata", "session_id": session_id, "answer_id": str(answer["id"]),
         "message_id": answer["message_id"], "user_message_id": answer["question_message_id"],
         "references": references, "model": answer.get("model"),
         "usage": answer.get("usage"), "suggested_title": title},
        {"type": "end"},
    ]  # fmt: skip


def suggest_title(question: str) -> str | None:
    """The question's first line, cut at a word boundary: a title for an untitled session."""
    line = " ".join(question.strip().split("\n", 1)[0].split())
    if not line:
        return None
    if len(line) <= TITLE_SUGGESTION_MAX:
        return line
    cut = line[:TITLE_SUGGESTION_MAX]
    space = cut.rfind(" ")
    return (cut[:space] if space > TITLE_SUGGESTION_MAX // 2 else cut).rstrip(" ,.;:") + "…"


def _frame_schema(kind: str, **fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type", *fields],
        "properties": {"type": {"const": kind}, **fields},
    }


_INT, _STR = {"type": "integer"}, {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
# The frames as JSON Schema, for the OpenAPI document (docs/aisquare.md has the prose).
FRAME_SCHEMA: dict[str, Any] = {
    "oneOf": [
        _frame_schema("start", session_id=_INT, answer_id=_STR, user_message_id=_INT),
        _frame_schema("token", content=_STR),
        _frame_schema("complete", status=_STR, content=_STR, message_id=_INT),
        _frame_schema(
            "metadata",
            session_id=_INT,
            answer_id=_STR,
            message_id=_INT,
            user_message_id=_INT,
            references={"type": "array", "items": {"type": "object"}},
            model=_NULLABLE_STR,
            usage={"type": ["object", "null"]},
            suggested_title=_NULLABLE_STR,
        ),
        _frame_schema("error", status=_STR, detail=_STR, answer_id=_STR),
        _frame_schema("end"),
    ]
}
