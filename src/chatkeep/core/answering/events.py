"""The stored event data and the Answer/Reference/Message JSON in them (contracts.md).

Events are stored already rendered (one line of JSON each), so a replay from any worker
sends exactly the bytes the first reader got, without re-reading what they describe.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from chatkeep.core.answering.prompts import cited_numbers
from chatkeep.core.answering.records import AnswerRecord
from chatkeep.core.knowledge.retrieval import RetrievedChunk
from chatkeep.core.models import Answer, Message


def dumps(data: dict[str, Any]) -> str:
    return orjson.dumps(data).decode()


def message_json(message: Message, session_uuid: UUID) -> dict[str, Any]:
    return {
        "id": message.id, "session_id": str(session_uuid), "role": message.role,
        "content": message.content,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        "metadata": message.metadata_,
    }  # fmt: skip


def question_data(answer_id: UUID, session_uuid: UUID, question: Message) -> str:
    return dumps({
        "answer_id": str(answer_id), "session_id": str(session_uuid),
        "question": message_json(question, session_uuid),
    })  # fmt: skip


def reference_json(n: int, chunk: RetrievedChunk) -> dict[str, Any]:
    return {
        "n": n, "chunk_id": str(chunk.chunk_id), "document_id": str(chunk.document_id),
        "document_name": chunk.document_name, "page_start": chunk.page_start,
        "page_end": chunk.page_end, "char_start": chunk.char_start, "char_end": chunk.char_end,
        "heading_path": list(chunk.heading_path), "score": chunk.score, "text": chunk.text,
        "cited": False,
    }  # fmt: skip


def mark_cited(references: list[dict[str, Any]], content: str) -> list[dict[str, Any]]:
    cited = cited_numbers(content)
    return [{**ref, "cited": ref["n"] in cited} for ref in references]


def to_record(
    row: Answer, session_uuid: UUID, content: str, alternatives: list[UUID] | None
) -> AnswerRecord:
    return AnswerRecord(
        id=row.id, session_id=session_uuid, question_message_id=row.question_message_id,
        message_id=row.message_id, status=row.status, content=content,
        references=list(row.references or []), model=row.model,
        prompt_tokens=row.prompt_tokens, completion_tokens=row.completion_tokens,
        error=row.error, created_at=row.created_at, finished_at=row.finished_at,
        alternatives=list(alternatives or [row.id]), timings=dict(row.timings or {}),
        last_event_id=row.last_event_id,
    )  # fmt: skip


def _time(value: Any) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def answer_json(answer: AnswerRecord) -> dict[str, Any]:
    return {
        "id": str(answer.id), "session_id": str(answer.session_id),
        "question_message_id": answer.question_message_id, "message_id": answer.message_id,
        "status": answer.status, "content": answer.content, "references": answer.references,
        "model": answer.model,
        "usage": {
            "prompt_tokens": answer.prompt_tokens, "completion_tokens": answer.completion_tokens,
        },
        "error": answer.error, "created_at": _time(answer.created_at),
        "finished_at": _time(answer.finished_at),
        "alternatives": [str(a) for a in answer.alternatives],
    }  # fmt: skip
