"""A session's messages as Alibaba's Q&A pairs (the mapping documented in docs/aidoc.md).

A pair opens at each user message (the question); its answer is the non-empty contents
of the assistant messages that follow, up to the next user message, joined by a blank
line, and its ``refDocList`` their ``metadata["references"]``. Assistant messages before
the first question form a pair with an empty question; system and tool messages are not
shown. Pairs run oldest first, so a page's contents never shift when a session grows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatkeep.core import messages
from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.types import MessageListQuery, MessageRecord, Principal
from chatkeep.core.uow import UnitOfWork

# The ChatRefDocItem fields and the JSON type each must have for the SDK to parse it.
REF_DOC_FIELDS: dict[str, type] = {
    "docName": str,
    "docUrl": str,
    "originDocName": str,
    "originDocUrl": str,
    "sourceType": str,
    "docInfo": dict,
    "pageNum": list,
}


@dataclass(slots=True)
class QaPair:
    question: str
    created_at: datetime
    answers: list[str] = field(default_factory=list)
    references: list[dict[str, Any]] = field(default_factory=list)

    @property
    def answer(self) -> str:
        return "\n\n".join(self.answers)


@dataclass(frozen=True, slots=True)
class QaPage:
    pairs: list[QaPair]
    total: int


async def qa_page(
    uow: UnitOfWork, principal: Principal, session_id: uuid.UUID, *, offset: int, limit: int
) -> QaPage:
    """The pairs ``[offset, offset + limit)`` and the total, keeping only that page in memory."""
    kept: list[QaPair] = []
    total = 0
    current: QaPair | None = None

    def close(pair: QaPair | None) -> None:
        nonlocal total
        if pair is not None:
            if offset <= total < offset + limit:
                kept.append(pair)
            total += 1

    async for message in _all_messages(uow, principal, session_id):
        if message.role == "user":
            close(current)
            current = QaPair(message.content, message.created_at)
        elif message.role == "assistant":
            if current is None:
                current = QaPair("", message.created_at)
            if message.content:
                current.answers.append(message.content)
            current.references.extend(ref_docs(message.metadata))
    close(current)
    return QaPage(kept, total)


async def _all_messages(
    uow: UnitOfWork, principal: Principal, session_id: uuid.UUID
) -> AsyncIterator[MessageRecord]:
    cursor: str | None = None
    while True:
        query = MessageListQuery(session_id=session_id, limit=PAGE_MAX, cursor=cursor)
        page = await messages.list_messages(uow, principal, query)
        for message in page.items:
            yield message
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def ref_docs(metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """``metadata["references"]`` as ChatRefDocItems: known fields of the right JSON type.

    Anything else is dropped, so an app's own reference format never breaks the SDK.
    """
    found = metadata.get("references")
    if not isinstance(found, list):
        return []
    docs = []
    for item in found:
        if isinstance(item, dict) and (doc := _ref_doc(item)):
            docs.append(doc)
    return docs


def _ref_doc(item: dict[str, Any]) -> dict[str, Any]:
    doc = {k: v for k, v in item.items() if isinstance(v, REF_DOC_FIELDS.get(k, ()))}
    pages = doc.get("pageNum")
    if isinstance(pages, list):
        doc["pageNum"] = [page for page in pages if isinstance(page, dict)]
    return doc
