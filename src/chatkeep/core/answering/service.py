"""Answer use cases that run in one short transaction each: open, regenerate, read, cancel.

Generation itself (generation.py) runs outside every transaction; these only decide who
may do what and record it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from chatkeep.core import limits
from chatkeep.core import messages as message_service
from chatkeep.core.answering import events
from chatkeep.core.answering.records import AnswerConfig, AnswerEvent, AnswerRecord, AskRequest
from chatkeep.core.auth import require
from chatkeep.core.clock import utcnow
from chatkeep.core.errors import Conflict, InvalidArgument, NotFound, TooManyAnswers
from chatkeep.core.models import RUNNING, Answer, Message
from chatkeep.core.repository import answers as rows
from chatkeep.core.repository import messages as message_rows
from chatkeep.core.repository import sessions as session_rows
from chatkeep.core.sessions import load_session
from chatkeep.core.types import NewMessage, Principal, Scope, SessionRecord
from chatkeep.core.uow import UnitOfWork

MAX_DOCUMENT_IDS = 100


@dataclass(frozen=True, slots=True)
class Opened:
    """A just-opened (or, replayed, an earlier) answer and what generating it needs."""

    answer: AnswerRecord
    replayed: bool
    session: SessionRecord
    question: str
    document_ids: list[UUID] | None = None


async def open_answer(
    uow: UnitOfWork, principal: Principal, ask: AskRequest, config: AnswerConfig, owner: str
) -> Opened:
    """Store the question and a running answer (with its ``question`` event) in one commit."""
    require(principal, Scope.MESSAGES_WRITE, "ask questions")
    _check_ask(ask)
    session = await load_session(uow, principal, ask.session_id, ask.user_id, lock=True)
    metadata = {"document_ids": [str(d) for d in ask.document_ids]} if ask.document_ids else {}
    new = NewMessage("user", ask.question, metadata, idempotency_key=ask.idempotency_key)
    if ask.idempotency_key is not None:
        earlier = await message_rows.find_by_idempotency_key(
            uow.db, session.id, ask.idempotency_key
        )
        if earlier is not None:
            return await _replay(uow, principal, ask, new, session)
    await _check_capacity(uow, principal, session, config)
    appended = await message_service.append_message(
        uow, principal, session.uuid, new, user_id=ask.user_id
    )
    question = await _message(uow, appended.message.id)
    docs = list(ask.document_ids) if ask.document_ids else None
    answer = await _start(uow, principal, session, question, config, owner, docs)
    return Opened(answer, False, session, ask.question, docs)


async def open_regeneration(
    uow: UnitOfWork, principal: Principal, answer_id: UUID, config: AnswerConfig, owner: str
) -> Opened:
    """A new answer to an earlier answer's question; the earlier one stays an alternative."""
    require(principal, Scope.MESSAGES_WRITE, "regenerate answers")
    earlier = await _visible_answer(uow, principal, answer_id)
    session = await load_session(uow, principal, earlier.session_id, None, lock=True)
    await _check_capacity(uow, principal, session, config)
    question = await _message(uow, earlier.question_message_id)
    docs = [UUID(d) for d in earlier.document_ids] if earlier.document_ids else None
    answer = await _start(uow, principal, session, question, config, owner, docs)
    return Opened(answer, False, session, question.content, docs)


async def get_answer(uow: UnitOfWork, principal: Principal, answer_id: UUID) -> AnswerRecord:
    require(principal, Scope.MESSAGES_READ, "read answers")
    row = await _visible_answer(uow, principal, answer_id)
    return await load_record(uow, row)


async def request_cancel(uow: UnitOfWork, principal: Principal, answer_id: UUID) -> bool:
    """Flag a running answer for cancellation (its generator stops at its next check)."""
    require(principal, Scope.MESSAGES_WRITE, "cancel answers")
    row = await _visible_answer(uow, principal, answer_id)
    return await rows.request_cancel(uow.db, principal.tenant_id, row.id)


async def events_after(
    uow: UnitOfWork, tenant_id: int, answer_id: UUID, after: int, limit: int = 200
) -> list[AnswerEvent]:
    """Stored events after ``after`` (the caller checked access once, via get_answer)."""
    found = await rows.events_after(uow.db, tenant_id, answer_id, after, limit)
    return [AnswerEvent(e.seq, e.type, e.data) for e in found]


async def load_record(uow: UnitOfWork, row: Answer) -> AnswerRecord:
    session_uuid = await rows.session_uuid(uow.db, row.session_id)
    content = await rows.message_content(uow.db, row.message_id)
    alternatives = await rows.answers_to_questions(uow.db, row.tenant_id, [row.question_message_id])
    return events.to_record(row, session_uuid, content, alternatives.get(row.question_message_id))


def _check_ask(ask: AskRequest) -> None:
    if not ask.question.strip():
        raise InvalidArgument("question", "must not be empty")
    limits.check_text(ask.question, "question")
    if ask.document_ids is not None and len(ask.document_ids) > MAX_DOCUMENT_IDS:
        raise InvalidArgument("document_ids", f"at most {MAX_DOCUMENT_IDS} documents")


async def _replay(
    uow: UnitOfWork, principal: Principal, ask: AskRequest, new: NewMessage, session: SessionRecord
) -> Opened:
    # append_message replays (or refuses a different request with the same key).
    appended = await message_service.append_message(
        uow, principal, session.uuid, new, user_id=ask.user_id
    )
    answers = await rows.answers_to_questions(uow.db, principal.tenant_id, [appended.message.id])
    latest = answers.get(appended.message.id)
    if not latest:
        raise NotFound("answer")
    row = await rows.find_answer(uow.db, principal.tenant_id, latest[0])
    assert row is not None
    return Opened(await load_record(uow, row), replayed=True, session=session, question=new.content)


async def _check_capacity(
    uow: UnitOfWork, principal: Principal, session: SessionRecord, config: AnswerConfig
) -> None:
    running = await rows.running_in_session(uow.db, principal.tenant_id, session.id)
    if running is not None:
        raise Conflict(f"An answer is already running in this session ({running}).")
    count = await rows.running_for_credential(uow.db, principal.tenant_id, principal.credential_id)
    if count >= config.max_running_per_credential:
        raise TooManyAnswers(config.max_running_per_credential)


async def _start(
    uow: UnitOfWork,
    principal: Principal,
    session: SessionRecord,
    question: Message,
    config: AnswerConfig,
    owner: str,
    document_ids: list[UUID] | None,
) -> AnswerRecord:
    now = utcnow()
    reply = await message_rows.insert_message(uow.db, {
        "tenant_id": principal.tenant_id, "user_pk": session.owner_pk, "session_id": session.id,
        "role": "assistant", "content": "", "created_at": now, "metadata": {},
        "idempotency_key": None, "request_hash": None,
    })  # fmt: skip
    assert reply is not None
    await session_rows.record_message_appended(uow.db, session.id, "assistant", now)
    docs = [str(d) for d in document_ids] if document_ids else None
    row = await rows.insert_answer(uow.db, {
        "id": uuid.uuid4(), "tenant_id": principal.tenant_id, "user_pk": session.owner_pk,
        "session_id": session.id, "question_message_id": question.id, "message_id": reply.id,
        "credential_id": principal.credential_id, "status": RUNNING, "references": [],
        "document_ids": docs, "last_event_id": 1, "cancel_requested": False,
        "lease_owner": owner, "lease_expires_at": _lease(now, config), "created_at": now,
        "timings": {},
    })  # fmt: skip
    data = events.question_data(row.id, session.uuid, question)
    await rows.insert_event(uow.db, principal.tenant_id, row.id, 1, "question", data, now)
    alternatives = await rows.answers_to_questions(uow.db, principal.tenant_id, [question.id])
    return events.to_record(row, session.uuid, "", alternatives.get(question.id))


def _lease(now: datetime, config: AnswerConfig) -> datetime:
    return now + timedelta(seconds=config.lease_seconds)


async def _visible_answer(uow: UnitOfWork, principal: Principal, answer_id: UUID) -> Answer:
    row = await rows.find_answer(uow.db, principal.tenant_id, answer_id)
    if row is None:
        raise NotFound("answer")
    try:  # the answer is visible exactly when its session is
        await load_session(uow, principal, row.session_id, None)
    except NotFound:
        raise NotFound("answer") from None
    return row


async def _message(uow: UnitOfWork, message_id: int) -> Message:
    found = await uow.db.get(Message, message_id)
    assert found is not None
    return found


async def answer_summaries(
    uow: UnitOfWork, principal: Principal, message_ids: list[int]
) -> dict[int, dict[str, Any]]:
    """For the assistant messages among ``message_ids`` (already read by the principal) that
    an answer produced: the answer's id, status, references and alternatives."""
    require(principal, Scope.MESSAGES_READ, "read messages")
    produced = await rows.answers_of_messages(uow.db, principal.tenant_id, message_ids)
    alternatives = await rows.answers_to_questions(
        uow.db, principal.tenant_id, list({a.question_message_id for a in produced})
    )
    return {
        a.message_id: {
            "id": str(a.id), "status": a.status, "references": list(a.references or []),
            "alternatives": [str(x) for x in alternatives.get(a.question_message_id, [a.id])],
        }
        for a in produced
    }  # fmt: skip
