"""A session's messages as question/answer pairs: the one place the pairing rule lives.

A pair opens at each user message (the question); its answer is the non-empty contents
of the assistant messages that follow, up to the next user message, joined by a blank
line. Assistant messages before the first question form a pair with an empty question;
system and tool messages are not shown. Pairs run oldest first, so a page's contents
never shift when a session grows.

A pair's references are of two kinds, both in message order: what the app stored in an
assistant message's ``metadata["references"]`` (its own format, passed through), and the
passages an answer of the answer engine cited (``answers.references``). Each dialect
renders them in its own terms. The count the pages are numbered by is kept on the session
at each append (``repository.sessions.record_message_appended``, the same rule in SQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chatkeep.core.auth import require
from chatkeep.core.models import Message
from chatkeep.core.repository import answers as answer_rows
from chatkeep.core.repository import messages as rows
from chatkeep.core.types import MessageRecord, Principal, Scope, SessionRecord
from chatkeep.core.uow import UnitOfWork


@dataclass(slots=True)
class QaPair:
    question: str
    created_at: datetime
    answers: list[str] = field(default_factory=list)
    # Items of the assistant messages' metadata["references"] lists (objects only).
    stored_references: list[dict[str, Any]] = field(default_factory=list)
    # The references of the answers that produced the assistant messages (core shape:
    # core.answering.events.reference_json).
    answer_references: list[dict[str, Any]] = field(default_factory=list)

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

    ``session`` is one the principal was already allowed to read. The total is the
    session's maintained ``qa_pair_count``. Pair k starts at the k-th user message, or,
    when an answer precedes every question (the leading pair, number 0), at the (k-1)-th;
    so the page's messages run from one user message to another.
    """
    require(principal, Scope.MESSAGES_READ, "read messages")
    total = session.qa_pair_count
    if offset >= total:
        return QaPage([], total)
    key = (uow.db, principal.tenant_id, session.owner_pk, session.id)
    lead = 1 if await rows.answer_comes_first(*key) else 0
    start, stop = offset - lead, offset + limit - lead
    first_id = await rows.question_id(*key, start) if start >= 0 else None
    if start >= 0 and first_id is None:
        return QaPage([], total)
    stop_id = await rows.question_id(*key, stop) if offset + limit < total else None
    found = await rows.messages_between(*key, first_id=first_id, stop_id=stop_id)
    window = [_record(m, session) for m in found]
    assistant_ids = [m.id for m in window if m.role == "assistant"]
    produced = await answer_rows.answers_of_messages(uow.db, principal.tenant_id, assistant_ids)
    references = {a.message_id: list(a.references or []) for a in produced}
    return QaPage(pair_messages(window, references)[:limit], total)


def pair_messages(
    found: Iterable[MessageRecord], answer_references: Mapping[int, list[dict[str, Any]]] = {}
) -> list[QaPair]:
    """Messages (oldest first) as pairs; ``answer_references`` by assistant message id."""
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
            current.stored_references.extend(_stored(message.metadata))
            current.answer_references.extend(answer_references.get(message.id, ()))
    return pairs


def _stored(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = metadata.get("references")
    if not isinstance(found, list):
        return []
    return [item for item in found if isinstance(item, dict)]


def _record(message: Message, session: SessionRecord) -> MessageRecord:
    return MessageRecord(
        id=message.id, session_id=session.uuid, role=message.role, content=message.content,
        created_at=message.created_at, metadata=message.metadata_,
    )  # fmt: skip
