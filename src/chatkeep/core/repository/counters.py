"""Maintained counters: list totals and Q&A pair counts without counting rows per request.

Maintained columns (all kept in the same transaction as the change that moves them):

- ``session_counts.sessions``: sessions per (tenant_id, user_pk, archived, domain_id);
  moved by session create, delete, archive/unarchive and move to another domain.
  A user's total is the sum of their rows (one per domain and archived state in use).
- ``sessions.message_count``: messages in the session; moved by append.
- ``sessions.qa_pair_count``: AI-doc Q&A pairs in the session (user messages, plus one
  when an assistant message precedes the first of them); moved by append.

Code that writes rows behind the services' back (the benchmark's bulk loader, an
import) calls :func:`rebuild_counters` afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, and_, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import ChatSession, Message, SessionCount
from chatkeep.core.repository.dialect import upsert_insert

C = ChatSession
CountKey = tuple[bool, uuid.UUID]  # (archived, domain_id) of one user's sessions


async def move_session_counts(
    db: AsyncSession, tenant_id: int, user_pk: int, deltas: dict[CountKey, int]
) -> None:
    """Add each delta to the user's count for its (archived, domain), atomically.

    ``sessions = sessions + n`` upserts, so concurrent writers never lose an update. The
    rows are touched in key order: two transactions moving the same pair of rows in
    opposite directions (archive vs unarchive) then lock them in the same order and
    cannot deadlock.
    """
    for (archived, domain_id), delta in sorted(deltas.items(), key=lambda kv: _order(kv[0])):
        if delta == 0:
            continue
        stmt = upsert_insert(db, SessionCount).values(
            tenant_id=tenant_id, user_pk=user_pk, archived=archived, domain_id=domain_id,
            sessions=delta,
        )  # fmt: skip
        await db.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "user_pk", "archived", "domain_id"],
                set_={"sessions": SessionCount.sessions + stmt.excluded.sessions},
            )
        )


def _order(key: CountKey) -> tuple[bool, str]:
    return key[0], str(key[1])


def select_counted(
    tenant_id: int, user_pk: int, *, archived: bool | None, domain_id: uuid.UUID | None
) -> Select[Any]:
    """The sum of the user's counter rows: a primary-key range of a few rows."""
    stmt = select(func.coalesce(func.sum(SessionCount.sessions), 0)).where(
        SessionCount.tenant_id == tenant_id, SessionCount.user_pk == user_pk
    )
    if archived is not None:
        stmt = stmt.where(SessionCount.archived == archived)
    if domain_id is not None:
        stmt = stmt.where(SessionCount.domain_id == domain_id)
    return stmt


async def counted_sessions(
    db: AsyncSession,
    tenant_id: int,
    user_pk: int,
    *,
    archived: bool | None,
    domain_id: uuid.UUID | None,
) -> int:
    """The user's maintained session total, optionally for one archived state / domain."""
    stmt = select_counted(tenant_id, user_pk, archived=archived, domain_id=domain_id)
    return int(await db.scalar(stmt) or 0)


async def forget_domains(db: AsyncSession, domain_ids: Iterable[uuid.UUID]) -> None:
    """Drop the counts of domains whose sessions are all being deleted with them."""
    await db.execute(delete(SessionCount).where(SessionCount.domain_id.in_(list(domain_ids))))


async def rebuild_counters(db: AsyncSession, tenant_id: int) -> None:
    """Recompute every maintained counter of one tenant from its rows (see module doc).

    Set-based: one DELETE + INSERT ... SELECT for ``session_counts``, one UPDATE that
    zeroes the sessions' message counters and one UPDATE ... FROM an aggregate of the
    tenant's messages that sets them. Runs in the caller's transaction; commit after.
    """
    await db.execute(delete(SessionCount).where(SessionCount.tenant_id == tenant_id))
    per_user = (
        select(C.tenant_id, C.user_pk, C.archived, C.domain_id, func.count())
        .where(C.tenant_id == tenant_id)
        .group_by(C.tenant_id, C.user_pk, C.archived, C.domain_id)
    )
    columns = ["tenant_id", "user_pk", "archived", "domain_id", "sessions"]
    await db.execute(insert(SessionCount).from_select(columns, per_user))

    await db.execute(
        update(C)
        .where(C.tenant_id == tenant_id, (C.message_count != 0) | (C.qa_pair_count != 0))
        .values(message_count=0, qa_pair_count=0)
    )
    m = Message
    agg = (
        select(
            m.session_id,
            func.count().label("messages"),
            func.sum(case((m.role == "user", 1), else_=0)).label("questions"),
            func.min(case((m.role == "user", m.id))).label("first_question"),
            func.min(case((m.role == "assistant", m.id))).label("first_answer"),
        )
        .where(m.tenant_id == tenant_id)
        .group_by(m.session_id)
        .subquery()
    )
    answer_first = and_(
        agg.c.first_answer.is_not(None),
        (agg.c.first_question.is_(None)) | (agg.c.first_answer < agg.c.first_question),
    )
    await db.execute(
        update(C)
        .where(C.id == agg.c.session_id)
        .values(
            message_count=agg.c.messages,
            qa_pair_count=agg.c.questions + case((answer_first, 1), else_=0),
        )
    )
