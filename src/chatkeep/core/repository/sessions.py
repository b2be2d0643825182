"""Session rows: list (keyset-paged, index-ordered), fetch, insert, update, delete.

Every query is keyed by ``(tenant_id, user_pk)`` and selects only session columns plus
the domain's name: no message body is ever read to list or show a session.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    bindparam,
    case,
    column,
    delete,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.dml import Update

from chatkeep.core.cursor import KeyValue
from chatkeep.core.models import TITLE_TRIGRAMS, ChatSession, Domain, SessionCount, User
from chatkeep.core.repository.dialect import (
    TITLE_KEY_BITS,
    ContainsFolded,
    fts_phrase,
    like_pattern,
    pg_trigrams_serve,
    sqlite_trigrams_serve,
)
from chatkeep.core.types import SessionFilter, SessionOrder, SessionRecord

S = ChatSession

# Each order's sort key, the last column unique; all columns of one order share a
# direction so a single row-value comparison continues after the cursor.
ORDER_KEYS: dict[SessionOrder, tuple[tuple[InstrumentedAttribute[Any], ...], bool]] = {
    SessionOrder.RECENT: ((S.is_pinned, S.recent_at, S.id), True),
    SessionOrder.CREATED: ((S.created_at, S.id), False),
    SessionOrder.CREATED_DESC: ((S.created_at, S.id), True),
    SessionOrder.TITLE: ((S.title, S.id), False),
    SessionOrder.UPDATED_DESC: ((S.updated_at, S.id), True),
}

_COLUMNS = (
    S.id, S.uuid, S.domain_id, Domain.name.label("domain_name"), S.title, S.system_context,
    S.is_pinned, S.pinned_at, S.archived, S.created_at, S.updated_at, S.last_message_at,
    S.message_count, S.metadata_.label("metadata"), S.recent_at, S.user_pk, S.qa_pair_count,
)  # fmt: skip


def _conditions(
    tenant_id: int, user_pk: int, flt: SessionFilter, *, counting: bool = False
) -> list[ColumnElement[bool]]:
    """The filter on session columns alone: each is a column of the order's index. Only a
    count lets PostgreSQL's trigram index serve the title search (see ContainsFolded)."""
    where = [S.tenant_id == tenant_id, S.user_pk == user_pk]
    if flt.domain_id is not None:
        where.append(S.domain_id == flt.domain_id)
    if flt.archived is not None:
        where.append(S.archived == flt.archived)
    if flt.pinned is not None:
        where.append(S.is_pinned == flt.pinned)
    if flt.q:
        title, folded = S.title.expression, S.title_folded.expression
        where.append(ContainsFolded(title, folded, flt.q, indexed=counting))
    return where


def _ordering(order: SessionOrder) -> list[ColumnElement[Any]]:
    columns, descending = ORDER_KEYS[order]
    return [c.desc() if descending else c.asc() for c in columns]


def _rows() -> Select[Any]:
    return select(*_COLUMNS).join(Domain, Domain.id == S.domain_id)


def select_sessions(
    tenant_id: int,
    user_pk: int,
    flt: SessionFilter,
    order: SessionOrder,
    after: Sequence[KeyValue] | None = None,
) -> Select[Any]:
    columns, descending = ORDER_KEYS[order]
    stmt = _rows().where(*_conditions(tenant_id, user_pk, flt))
    if after is not None:
        stmt = stmt.where(*_after_position(columns, after, descending))
    return stmt.order_by(*_ordering(order))


def select_session_ids(
    tenant_id: int, user_pk: int, flt: SessionFilter, order: SessionOrder
) -> Select[Any]:
    """The matching ids in list order: only columns of the order's index, so the database
    walks (and skips over, and filters by title on) that index without reading a row."""
    return select(S.id).where(*_conditions(tenant_id, user_pk, flt)).order_by(*_ordering(order))


def select_session_page(
    tenant_id: int,
    user_pk: int,
    flt: SessionFilter,
    order: SessionOrder,
    *,
    offset: int,
    limit: int,
) -> Select[Any]:
    """Rows ``[offset, offset + limit)`` of a list, as a deferred join.

    The OFFSET runs in the subquery over the narrow index alone, then only the page's
    rows are read (by primary key) and joined to their domain; the final sort is over
    ``limit`` rows. Page 1,000 thus costs an index walk, not 10,000 rows and joins.
    """
    page = (
        select_session_ids(tenant_id, user_pk, flt, order).offset(offset).limit(limit)
    ).subquery("page")
    return (
        _rows()
        .join(page, page.c.id == S.id)
        .where(S.tenant_id == tenant_id, S.user_pk == user_pk)  # keeps the shard key
        .order_by(*_ordering(order))
    )


def select_position(
    tenant_id: int, user_pk: int, flt: SessionFilter, order: SessionOrder, offset: int
) -> Select[Any]:
    """The sort key of the row at ``offset`` (0-based), read from the order's index."""
    columns, _ = ORDER_KEYS[order]
    ids = select_session_ids(tenant_id, user_pk, flt, order)
    return ids.with_only_columns(*columns).offset(offset).limit(1)


def _after_position(
    columns: Sequence[InstrumentedAttribute[Any]], after: Sequence[KeyValue], descending: bool
) -> list[ColumnElement[bool]]:
    """The keyset condition "after this sort key", as index range conditions.

    A leading boolean already at its last value (false, going down) can only stay there,
    so it becomes an equality. Same rows, but PostgreSQL estimates a row comparison by
    its first column alone, and ``is_pinned < false`` matches nothing: left as a row
    comparison, every later page of the recent order was planned for one row and could
    take an index that does not fit the query (the user-wide one for a domain's list).
    """
    last_value = not descending
    conditions: list[ColumnElement[bool]] = []
    while len(columns) > 1 and isinstance(after[0], bool) and after[0] is last_value:
        conditions.append(columns[0] == after[0])
        columns, after = columns[1:], after[1:]
    rest, values = tuple_(*columns), tuple_(*after)
    conditions.append(rest < values if descending else rest > values)
    return conditions


async def list_sessions(
    db: AsyncSession, stmt: Select[Any], limit: int, offset: int = 0
) -> list[Row[Any]]:
    # Core on the session's connection: the rows are plain columns, and skipping the ORM's
    # loading layer measured ~10 % less per list (docs/decisions.md, issue 10).
    conn = await db.connection()
    result = await conn.execute(stmt.limit(limit).offset(offset))
    return list(result.all())


async def walk_sessions(
    db: AsyncSession,
    tenant_id: int,
    user_pk: int,
    flt: SessionFilter,
    order: SessionOrder,
    after: Sequence[KeyValue] | None = None,
    chunk: int = 500,
) -> AsyncIterator[Row[Any]]:
    """Every matching row after ``after``, as a keyset walk of ``chunk``-row pages.

    One unbounded statement is planned for the user's whole set, and PostgreSQL then
    sorts all of it before the first row (2.3 s to first byte for a 100,000-session
    user); each bounded page is a range scan of the order's index. Run it in a snapshot
    (the read transactions are) so the pages join up as one consistent list.
    """
    while True:
        stmt = select_sessions(tenant_id, user_pk, flt, order, after)
        batch = await list_sessions(db, stmt, chunk)
        for row in batch:
            yield row
        if len(batch) < chunk:
            return
        after = sort_key(batch[-1], order)


def select_session_count(
    tenant_id: int, user_pk: int, flt: SessionFilter, backend: str = "postgresql"
) -> Select[Any]:
    """COUNT(*) of a filter the maintained counters cannot answer (a title search): the
    session columns alone, so a covering index answers it without the table or domains.
    On SQLite a title search long enough for the trigram index may count its hits."""
    if backend == "sqlite" and flt.q and sqlite_trigrams_serve(flt.q, user_pk):
        stmt, values = _trigram_count(tenant_id, user_pk, flt, flt.q)
        return stmt.params(values)
    where = _conditions(tenant_id, user_pk, flt, counting=True)
    return select(func.count()).select_from(S).where(*where)


# SQLite's FTS5 trigram index of titles (migration 0010), its rowid user_pk << 40 | id.
_TRIGRAMS = table(TITLE_TRIGRAMS, column("rowid", BigInteger))
_KEY_SPAN = 1 << TITLE_KEY_BITS
# A hit costs a primary-key lookup (the LIKE recheck, ``archived`` and any other filter):
# measured 8-16x an index entry of the scan, so the hits win below a 16th of the user.
_HITS_PER_SCAN = 16
_ALWAYS_FEW = 64


def _trigram_count(
    tenant_id: int, user_pk: int, flt: SessionFilter, needle: str
) -> tuple[Select[Any], dict[str, Any]]:
    """SQLite's trigram count for this filter: its statement (built once per filter
    shape: built per request it cost ~0.4 ms of CPU) and the values to run it with."""
    low = user_pk << TITLE_KEY_BITS
    values: dict[str, Any] = {
        "tenant_id": tenant_id, "user_pk": user_pk, "pattern": like_pattern(needle),
        "phrase": fts_phrase(needle), "low": low, "high": low + _KEY_SPAN - 1,
        "domain_id": flt.domain_id, "archived": flt.archived, "pinned": flt.pinned,
    }  # fmt: skip
    shape = (flt.domain_id is not None, flt.archived is not None, flt.pinned is not None)
    stmt = _trigram_count_statement(*shape)
    return stmt, {k: v for k, v in values.items() if v is not None}


@functools.cache
def _trigram_count_statement(by_domain: bool, by_archived: bool, by_pinned: bool) -> Select[Any]:
    """The count from the user's trigram hits if they are few, else the scan: one statement.

    The hits are first counted up to a cap (a 16th of the user's sessions, from the
    counters, plus 64), which costs a fraction of either count; SQLite runs only the
    branch its CASE takes. The hits are a superset (FTS5 folds all of Unicode, SQLite's
    LIKE only ASCII), so the LIKE (``_conditions``' SQLite form) still decides each one.
    """
    where = [S.tenant_id == bindparam("tenant_id"), S.user_pk == bindparam("user_pk")]
    if by_domain:
        where.append(S.domain_id == bindparam("domain_id"))
    if by_archived:
        where.append(S.archived == bindparam("archived"))
    if by_pinned:
        where.append(S.is_pinned == bindparam("pinned"))
    where.append(S.title.like(bindparam("pattern", type_=String()), escape="/"))
    low = bindparam("low", type_=BigInteger())
    hits = [
        literal_column(TITLE_TRIGRAMS).op("MATCH")(bindparam("phrase", type_=String())),
        _TRIGRAMS.c.rowid.between(low, bindparam("high", type_=BigInteger())),
    ]
    sessions = func.coalesce(func.sum(SessionCount.sessions), 0)
    cap = (
        select(_ALWAYS_FEW + sessions // _HITS_PER_SCAN)
        .where(SessionCount.tenant_id == bindparam("tenant_id"))
        .where(SessionCount.user_pk == bindparam("user_pk"))
        .scalar_subquery()
    )
    capped = select(literal(1)).select_from(_TRIGRAMS).where(*hits).limit(cap).subquery()
    few = select(func.count()).select_from(capped).scalar_subquery() < cap
    by_hits = (
        select(func.count())
        .select_from(_TRIGRAMS)
        .join(S, S.id == _TRIGRAMS.c.rowid - low)
        .where(*hits, *where)
    )
    scanned = select(func.count()).select_from(S).where(*where)
    return select(case((few, by_hits.scalar_subquery()), else_=scanned.scalar_subquery()))


async def position(
    db: AsyncSession, tenant_id: int, user_pk: int, flt: SessionFilter, order: SessionOrder,
    offset: int,
) -> tuple[KeyValue, ...] | None:  # fmt: skip
    row = (await db.execute(select_position(tenant_id, user_pk, flt, order, offset))).first()
    return None if row is None else tuple(row)


# A generic plan is costed for the average user (~45 sessions), for whom the btree scan is
# cheapest, so after five runs PostgreSQL kept the scan even for a 100,000-session user;
# planned per execution it knows the user's size and takes the trigram GIN (7 vs 21 ms).
# For the rest of the transaction: the page that follows the count is planned so too.
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def count_sessions(db: AsyncSession, tenant_id: int, user_pk: int, flt: SessionFilter) -> int:
    backend = db.get_bind().dialect.name
    if backend == "sqlite" and flt.q and sqlite_trigrams_serve(flt.q, user_pk):
        stmt, values = _trigram_count(tenant_id, user_pk, flt, flt.q)
        return int(await db.scalar(stmt, values) or 0)
    if backend == "postgresql" and flt.q and pg_trigrams_serve(flt.q):
        await db.execute(_CUSTOM_PLANS)
    return int(await db.scalar(select_session_count(tenant_id, user_pk, flt, backend)) or 0)


def sort_key(row: Any, order: SessionOrder) -> tuple[KeyValue, ...]:
    columns, _ = ORDER_KEYS[order]
    return tuple(getattr(row, c.key) for c in columns)


def to_record(row: Any, user_id: str) -> SessionRecord:
    return SessionRecord(
        id=row.id, uuid=row.uuid, owner_pk=row.user_pk, user_id=user_id, domain_id=row.domain_id,
        domain_name=row.domain_name, title=row.title, system_context=row.system_context,
        is_pinned=row.is_pinned, pinned_at=row.pinned_at, archived=row.archived,
        created_at=row.created_at, updated_at=row.updated_at,
        last_message_at=row.last_message_at, message_count=row.message_count,
        metadata=row.metadata, qa_pair_count=row.qa_pair_count,
    )  # fmt: skip


async def find_session(
    db: AsyncSession,
    tenant_id: int,
    user_pk: int | None,
    *,
    session_uuid: uuid.UUID | None = None,
    session_id: int | None = None,
    lock: bool = False,
) -> Row[Any] | None:
    """One session by its UUID or integer id, with its owner's ``user_external_id``.

    ``user_pk`` None means any user of the tenant (a service credential's point lookup by
    a unique key, never a scan). ``lock`` holds the session row (only it) until commit;
    SQLite write transactions are serial already.

    The lock is taken by a statement of its own, without the joins: PostgreSQL rechecks
    a locked row's join after waiting for a concurrent writer but keeps the other
    tables' old rows, so a session moved to another domain meanwhile would vanish from
    a joined ``FOR UPDATE``. The read after it sees the row as that writer left it.
    """
    where = [S.tenant_id == tenant_id]
    if user_pk is not None:
        where.append(S.user_pk == user_pk)
    if session_uuid is not None:
        where.append(S.uuid == session_uuid)
    if session_id is not None:
        where.append(S.id == session_id)
    if lock and await db.scalar(select(S.id).where(*where).with_for_update()) is None:
        return None
    stmt = (
        select(*_COLUMNS, User.external_id.label("user_external_id"))
        .join(Domain, Domain.id == S.domain_id)
        .join(User, User.id == S.user_pk)
        .where(*where)
    )
    return (await db.execute(stmt)).first()


async def insert_session(db: AsyncSession, session: ChatSession) -> None:
    db.add(session)
    await db.flush()


async def update_session(db: AsyncSession, session_id: int, values: dict[str, Any]) -> None:
    await db.execute(update(S).where(S.id == session_id).values(**values))


def message_appended(session_id: int, role: str, now: datetime) -> Update:
    """The UPDATE that moves a session's activity clocks and counters for one new message.

    The caller holds the session row, so ``qa_pair_count = 0`` reads the committed state.
    """
    # A question always opens a pair; an answer only when nothing has opened one yet.
    opens_pair: ColumnElement[int] | int = 1 if role == "user" else 0
    if role == "assistant":
        opens_pair = case((S.qa_pair_count == 0, 1), else_=0)
    return (
        update(S)
        .where(S.id == session_id)
        .values(
            message_count=S.message_count + 1,
            qa_pair_count=S.qa_pair_count + opens_pair,
            last_message_at=now,
            updated_at=now,
            # A pinned session keeps sorting by pinned_at; it rejoins by activity when unpinned.
            recent_at=func.coalesce(S.pinned_at, now),
        )
    )


async def record_message_appended(
    db: AsyncSession, session_id: int, role: str, now: datetime
) -> None:
    """Move the session's activity clocks and counters in the append's own transaction."""
    await db.execute(message_appended(session_id, role, now))


async def lock_session(
    db: AsyncSession,
    tenant_id: int,
    user_pk: int | None,
    *,
    session_uuid: uuid.UUID | None = None,
    session_id: int | None = None,
) -> Row[Any] | None:
    """Hold one session row until commit and return its keys (``id``, ``uuid``,
    ``user_pk``): all an append needs, in one statement without joins (see find_session
    for why a lock takes no joins). SQLite write transactions are serial already."""
    by_id = session_id is not None
    params: dict[str, Any] = {"tenant_id": tenant_id, "ref": session_id if by_id else session_uuid}
    if user_pk is not None:
        params["user_pk"] = user_pk
    conn = await db.connection()
    stmt = _LOCKS[(by_id, user_pk is not None)]
    return cast("Row[Any] | None", (await conn.execute(stmt, params)).first())


def lock_statement(*, by_id: bool, of_user: bool) -> Select[int, uuid.UUID, int]:
    where = [S.tenant_id == bindparam("tenant_id"),
             (S.id if by_id else S.uuid) == bindparam("ref")]  # fmt: skip
    if of_user:
        where.append(S.user_pk == bindparam("user_pk"))
    return select(S.id, S.uuid, S.user_pk).where(*where).with_for_update()


# Prebuilt, one per shape (as the key check in accounts.py): every append takes one.
_LOCKS = {(by_id, of_user): lock_statement(by_id=by_id, of_user=of_user)
          for by_id in (True, False) for of_user in (True, False)}  # fmt: skip


async def delete_session(db: AsyncSession, session_id: int) -> None:
    await db.execute(delete(S).where(S.id == session_id))
