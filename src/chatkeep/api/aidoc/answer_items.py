"""AI-doc ``ChatItem``s and ``refDocList``s, rendered from the core's answers.

The one rendering behind ``Chat`` (the finished item), ``ChatStream`` (its shards) and the
answered pairs of ``GetChatList``. Streaming shards carry the answer as *deltas*: each
shard's ``answer`` is the text added since the previous shard, and only the first shard
carries ``refDocList`` (Alibaba's documented behaviour); docs/aidoc.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Opens a document for the caller: a signed, expiring URL (core.document_links).
DocumentUrl = Callable[[uuid.UUID], str]

# An answer that did not complete, by its status: the code, and the HTTP status Chat
# answers with when it can still choose one (docs/aidoc.md, "Chat and ChatStream").
FAILURES: dict[str, tuple[str, int]] = {
    "failed": ("AnswerFailed", 502),
    "incomplete": ("AnswerIncomplete", 503),
    "cancelled": ("AnswerCancelled", 409),
}


@dataclass(frozen=True, slots=True)
class ChatContext:
    """What every item of one answer repeats: the question and the session's folder."""

    question: str
    create_time: int  # the question's time, epoch milliseconds
    folder_id: str
    folder_name: str


@dataclass(frozen=True, slots=True)
class StreamShard:
    data: dict[str, Any]  # the SSE data object: {"requestId", "data": ChatItem | {...}}
    id: int
    event: str | None = None  # None: the SDK reports "message"


def chat_item(
    context: ChatContext, answer: str, ref_docs: list[dict[str, Any]] | None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "question": context.question,
        "answer": answer,
        "createTime": context.create_time,
        "folderId": context.folder_id,
        "folderName": context.folder_name,
    }
    if ref_docs is not None:
        item["refDocList"] = ref_docs
    return item


def ref_doc_list(references: Iterable[Mapping[str, Any]], url: DocumentUrl) -> list[dict[str, Any]]:
    """One ``ChatRefDocItem`` per cited document, in first-citation order, with its pages.

    Positions (``pos``) are empty: chatkeep's parser keeps character offsets, not page
    coordinates.
    """
    documents: dict[str, dict[str, Any]] = {}
    for reference in references:
        key = str(reference["document_id"])
        item = documents.get(key)
        if item is None:
            link = url(uuid.UUID(key))
            item = documents[key] = {
                "docName": reference["document_name"], "docUrl": link,
                "originDocName": reference["document_name"], "originDocUrl": link,
                "sourceType": "doc", "docInfo": {"pageListInfo": []}, "pageNum": [],
            }  # fmt: skip
        pages = {entry["num"] for entry in item["pageNum"]}
        for page in _pages(reference):
            if page not in pages:
                item["pageNum"].append({"num": page, "pos": []})
                pages.add(page)
    return list(documents.values())


def _pages(reference: Mapping[str, Any]) -> range:
    start, end = reference.get("page_start"), reference.get("page_end")
    if not isinstance(start, int):
        return range(0)
    return range(start, (end if isinstance(end, int) and end >= start else start) + 1)


def stream_shards(
    event_type: str, event_id: int, data: Mapping[str, Any], *,
    context: ChatContext, request_id: str, url: DocumentUrl,
) -> list[StreamShard]:  # fmt: skip
    """The ChatStream shards one answer event becomes (``question`` and a complete answer's
    ``done`` none; a cancelled answer's ``done`` an error event, since it did not finish)."""
    if event_type == "references":
        refs = ref_doc_list(data["references"], url)
        item = chat_item(context, "", refs)
    elif event_type == "delta":
        item = chat_item(context, data["text"], None)
    elif event_type == "error":
        shown = failure(context, data["status"], data.get("reason"), request_id)
        return [StreamShard(shown, event_id, "error")]
    elif event_type == "done" and data["answer"]["status"] != "complete":
        shown = failure(context, data["answer"]["status"], data["answer"]["error"], request_id)
        return [StreamShard(shown, event_id, "error")]
    else:
        return []
    return [StreamShard({"requestId": request_id, "data": item}, event_id)]


def failure(
    context: ChatContext, status: str, reason: str | None, request_id: str
) -> dict[str, Any]:
    """An answer that ended ``status`` (not complete), after a 200 was sent: the SDK drops
    ``code``/``message`` of a 200 body or stream event, so ``data.answer`` says it too."""
    code, _ = FAILURES.get(status, FAILURES["failed"])
    message = reason or f"the answer ended {status}"
    shown = chat_item(context, f"[answer {status}: {message}]", None)
    return {"requestId": request_id, "code": code, "message": message, "data": shown}
