"""Message rows: keyset-paged in append order, and idempotent inserts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import Message
from chatkeep.core.repository.dialect import upsert_insert


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
