"""Answer rows and their numbered events.

Every change to a running answer goes through one conditional UPDATE (``status =
'running'``, and the caller's lease where it owns one) that also takes the next event id:
whoever finishes an answer first (its generator, a cancel, the sweeper) wins, and the
others see that they lost instead of writing over a terminal answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import RUNNING, Answer, AnswerEvent, ChatSession, Message


async def insert_answer(db: AsyncSession, values: dict[str, Any]) -> Answer:
    answer = Answer(**values)
    db.add(answer)
    await db.flush()
    return answer


async def insert_event(
    db: AsyncSession, tenant_id: int, answer_id: UUID, seq: int, type_: str, data: str,
    now: datetime,
) -> None:  # fmt: skip
    db.add(AnswerEvent(
        tenant_id=tenant_id, answer_id=answer_id, seq=seq, type=type_, data=data, created_at=now,
    ))  # fmt: skip
    await db.flush()


async def advance(
    db: AsyncSession,
    tenant_id: int,
    answer_id: UUID,
    *,
    owner: str | None,
    changes: dict[str, Any],
    lease_expired_before: datetime | None = None,
) -> Answer | None:
    """Take the next event id of a running answer (applying ``changes``); None when the
    answer is no longer running, or no longer ``owner``'s."""
    stmt = (
        update(Answer)
        .where(Answer.tenant_id == tenant_id, Answer.id == answer_id, Answer.status == RUNNING)
        .values(last_event_id=Answer.last_event_id + 1, **changes)
        .returning(Answer)
        .execution_options(synchronize_session=False)
    )
    if owner is not None:
        stmt = stmt.where(Answer.lease_owner == owner)
    if lease_expired_before is not None:  # the sweeper: only if the owner did not renew
        stmt = stmt.where(Answer.lease_expires_at < lease_expired_before)
    found: Answer | None = await db.scalar(select(Answer).from_statement(stmt))
    return found


async def renew_lease(
    db: AsyncSession, tenant_id: int, answer_id: UUID, owner: str, expires_at: datetime
) -> bool | None:
    """Extend the owner's lease; the answer's cancel flag, or None when it is not ours."""
    result = await db.execute(
        update(Answer)
        .where(
            Answer.tenant_id == tenant_id, Answer.id == answer_id,
            Answer.status == RUNNING, Answer.lease_owner == owner,
        )
        .values(lease_expires_at=expires_at)
        .returning(Answer.cancel_requested)
    )  # fmt: skip
    flag = result.scalar_one_or_none()
    return None if flag is None else bool(flag)


async def request_cancel(db: AsyncSession, tenant_id: int, answer_id: UUID) -> bool:
    result = await db.execute(
        update(Answer)
        .where(Answer.tenant_id == tenant_id, Answer.id == answer_id, Answer.status == RUNNING)
        .values(cancel_requested=True)
        .returning(Answer.id)
    )
    return result.scalar_one_or_none() is not None


async def find_answer(db: AsyncSession, tenant_id: int, answer_id: UUID) -> Answer | None:
    return await db.scalar(
        select(Answer).where(Answer.tenant_id == tenant_id, Answer.id == answer_id)
    )


async def running_in_session(db: AsyncSession, tenant_id: int, session_id: int) -> UUID | None:
    found: UUID | None = await db.scalar(
        select(Answer.id).where(
            Answer.tenant_id == tenant_id, Answer.session_id == session_id,
            Answer.status == RUNNING,
        )
    )  # fmt: skip
    return found


async def running_for_credential(db: AsyncSession, tenant_id: int, credential_id: str) -> int:
    count = await db.scalar(
        select(func.count()).where(
            Answer.tenant_id == tenant_id, Answer.credential_id == credential_id,
            Answer.status == RUNNING,
        )
    )  # fmt: skip
    return int(count or 0)


async def answers_to_questions(
    db: AsyncSession, tenant_id: int, question_ids: Sequence[int]
) -> dict[int, list[UUID]]:
    """Each question's answers, latest first (alternatives)."""
    if not question_ids:
        return {}
    rows = await db.execute(
        select(Answer.question_message_id, Answer.id)
        .where(Answer.tenant_id == tenant_id, Answer.question_message_id.in_(question_ids))
        .order_by(Answer.question_message_id, Answer.created_at.desc(), Answer.id.desc())
    )
    found: dict[int, list[UUID]] = {}
    for question_id, answer_id in rows:
        found.setdefault(question_id, []).append(answer_id)
    return found


async def answers_of_messages(
    db: AsyncSession, tenant_id: int, message_ids: Sequence[int]
) -> list[Answer]:
    if not message_ids:
        return []
    found = await db.scalars(
        select(Answer).where(Answer.tenant_id == tenant_id, Answer.message_id.in_(message_ids))
    )
    return list(found.all())


async def events_after(
    db: AsyncSession, tenant_id: int, answer_id: UUID, after: int, limit: int
) -> list[AnswerEvent]:
    found = await db.scalars(
        select(AnswerEvent)
        .where(
            AnswerEvent.tenant_id == tenant_id, AnswerEvent.answer_id == answer_id,
            AnswerEvent.seq > after,
        )
        .order_by(AnswerEvent.seq)
        .limit(limit)
    )  # fmt: skip
    return list(found.all())


async def expired_running(db: AsyncSession, now: datetime, limit: int) -> list[tuple[int, UUID]]:
    rows = await db.execute(
        select(Answer.tenant_id, Answer.id)
        .where(Answer.status == RUNNING, Answer.lease_expires_at < now)
        .limit(limit)
    )
    return [(tenant_id, answer_id) for tenant_id, answer_id in rows]


async def set_message_content(db: AsyncSession, message_id: int, content: str) -> None:
    await db.execute(update(Message).where(Message.id == message_id).values(content=content))


async def message_content(db: AsyncSession, message_id: int) -> str:
    content: str | None = await db.scalar(select(Message.content).where(Message.id == message_id))
    return content or ""


async def history_before(
    db: AsyncSession, tenant_id: int, user_pk: int, session_id: int, before_id: int, limit: int
) -> list[Message]:
    """The session's latest ``limit`` messages before ``before_id``, newest first."""
    found = await db.scalars(
        select(Message)
        .where(
            Message.tenant_id == tenant_id, Message.user_pk == user_pk,
            Message.session_id == session_id, Message.id < before_id,
        )
        .order_by(Message.id.desc())
        .limit(limit)
    )  # fmt: skip
    return list(found.all())


async def session_uuid(db: AsyncSession, session_id: int) -> UUID:
    found = await db.execute(select(ChatSession.uuid).where(ChatSession.id == session_id))
    uuid_: UUID = found.scalar_one()
    return uuid_
