"""A session's messages as Alibaba's Q&A pairs (the mapping documented in docs/aidoc.md).

A pair opens at each user message (the question); its answer is the non-empty contents
of the assistant messages that follow, up to the next user message, joined by a blank
line, and its ``refDocList`` their ``metadata["references"]``. Assistant messages before
the first question form a pair with an empty question; system and tool messages are not
shown. Pairs run oldest first, so a page's contents never shift when a session grows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatkeep.core import messages
from chatkeep.core.types import MessageRecord, Principal, SessionRecord
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
    uow: UnitOfWork, principal: Principal, session: SessionRecord, *, offset: int, limit: int
) -> QaPage:
    """The pairs ``[offset, offset + limit)`` and the total, reading only those pairs' messages.

    The total is the session's maintained ``qa_pair_count``. Pair k starts at the k-th user
    message, or, when an answer precedes every question (the leading pair, number 0), at
    the (k-1)-th; so the page's messages run from one user message to another.
    """
    total = session.qa_pair_count
    if offset >= total:
        return QaPage([], total)
    lead = 1 if await messages.answer_comes_first(uow, principal, session) else 0
    start = offset - lead
    stop = offset + limit - lead
    window = await messages.messages_between_questions(
        uow, principal, session,
        start=start if start >= 0 else None,
        stop=stop if offset + limit < total else None,
    )  # fmt: skip
    return QaPage(pair_messages(window)[:limit], total)


def pair_messages(found: Iterable[MessageRecord]) -> list[QaPair]:
    """Messages (oldest first) as Q&A pairs: the mapping in this module's docstring."""
    pairs: list[QaPair] = []
    for message in found:
        if message.role == "user":
            pairs.append(QaPair(message.content, message.created_at))
        elif message.role == "assistant":
            if not pairs:
                pairs.append(QaPair("", message.created_at))
            current = pairs[-1]
            if message.content:
                current.answers.append(message.content)
            current.references.extend(ref_docs(message.metadata))
    return pairs


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
