"""Message rows: keyset-paged in append order, and idempotent inserts."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Row, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import Message
from chatkeep.core.repository.dialect import upsert_insert
from chatkeep.core.repository.sessions import message_appended

_MESSAGE: sa.Table = Message.__table__  # type: ignore[assignment]


def select_messages(
    tenant_id: int, user_pk: int, session_id: int, *, newest_first: bool, after_id: int | None
) -> Select[Message]:
    """One session's messages in append order (or newest first), after ``after_id``."""
    stmt = select(Message).where(
        Message.tenant_id == tenant_id,
        Message.user_pk == user_pk,
        Message.session_id == session_id,
    )
    if after_id is not None:
        stmt = stmt.where(Message.id < after_id if newest_first else Message.id > after_id)
    return stmt.order_by(Message.id.desc() if newest_first else Message.id.asc())


async def list_messages(
    db: AsyncSession,
    tenant_id: int,
    user_pk: int,
    session_id: int,
    *,
    newest_first: bool,
    after_id: int | None,
    limit: int,
) -> list[Message]:
    stmt = select_messages(
        tenant_id, user_pk, session_id, newest_first=newest_first, after_id=after_id
    )
    return list((await db.scalars(stmt.limit(limit))).all())


def _of_session(tenant_id: int, user_pk: int, session_id: int) -> list[Any]:
    return [
        Message.tenant_id == tenant_id,
        Message.user_pk == user_pk,
        Message.session_id == session_id,
    ]


def select_question_id(tenant_id: int, user_pk: int, session_id: int, n: int) -> Select[Any]:
    """The id of the session's ``n``-th (0-based) user message, from the role index alone."""
    return (
        select(Message.id)
        .where(*_of_session(tenant_id, user_pk, session_id), Message.role == "user")
        .order_by(Message.id)
        .offset(n)
        .limit(1)
    )


def select_first_ids(tenant_id: int, user_pk: int, session_id: int) -> Select[Any]:
    """The ids of the session's first user and first assistant message (either may be None)."""

    def first(role: str) -> Any:
        return (
            select(func.min(Message.id))
            .where(*_of_session(tenant_id, user_pk, session_id), Message.role == role)
            .scalar_subquery()
        )

    return select(first("user").label("question"), first("assistant").label("answer"))


async def question_id(
    db: AsyncSession, tenant_id: int, user_pk: int, session_id: int, n: int
) -> int | None:
    found: int | None = await db.scalar(select_question_id(tenant_id, user_pk, session_id, n))
    return found


async def answer_comes_first(
    db: AsyncSession, tenant_id: int, user_pk: int, session_id: int
) -> bool:
    """True when an assistant message precedes every user message of the session."""
    row = (await db.execute(select_first_ids(tenant_id, user_pk, session_id))).one()
    return row.answer is not None and (row.question is None or row.answer < row.question)


async def messages_between(
    db: AsyncSession,
    tenant_id: int,
    user_pk: int,
    session_id: int,
    *,
    first_id: int | None,
    stop_id: int | None,
) -> list[Message]:
    """The session's messages with ``first_id <= id < stop_id`` (open ends: None), in order."""
    stmt = select_messages(tenant_id, user_pk, session_id, newest_first=False, after_id=None)
    if first_id is not None:
        stmt = stmt.where(Message.id >= first_id)
    if stop_id is not None:
        stmt = stmt.where(Message.id < stop_id)
    return list((await db.scalars(stmt)).all())


async def find_by_idempotency_key(db: AsyncSession, session_id: int, key: str) -> Message | None:
    return await db.scalar(
        select(Message).where(Message.session_id == session_id, Message.idempotency_key == key)
    )


async def insert_message(db: AsyncSession, values: dict[str, Any]) -> Message | None:
    """Insert one message; None when its idempotency key is already taken in the session.

    ON CONFLICT DO NOTHING keeps a concurrent retry from failing the transaction.
    """
    stmt = (
        upsert_insert(db, Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["session_id", "idempotency_key"])
        .returning(Message)
    )
    inserted: Message | None = await db.scalar(select(Message).from_statement(stmt))
    return inserted


async def insert_counted_message(db: AsyncSession, values: dict[str, Any]) -> Row[Any] | None:
    """Insert one message and move its session's counters (the caller holds the session
    row); None, with nothing moved, when the idempotency key is already taken.

    PostgreSQL: one statement, the UPDATE a data-modifying CTE that runs only if the
    INSERT inserted: one round trip fewer on the hottest write. SQLite (no DML in a CTE):
    the same two statements in turn, in-process and cheap.
    """
    conn = await db.connection()
    insert = (
        upsert_insert(db, Message)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["session_id", "idempotency_key"])
        .returning(*_MESSAGE.c)
    )
    counted = message_appended(values["session_id"], values["role"], values["created_at"])
    if conn.dialect.name != "postgresql":
        row = (await conn.execute(insert)).first()
        if row is not None:
            await conn.execute(counted)
        return row
    inserted = insert.cte("inserted")
    moved = counted.where(exists(select(inserted.c.id))).cte("moved")
    stmt = select(inserted).add_cte(moved)
    return (await conn.execute(stmt)).first()
