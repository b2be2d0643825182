"""Query-plan machinery: a seeded database per backend, EXPLAIN, and plan assertions.

Used by test_query_plans.py. What it asserts is described there.

DESIGN.md: "Indexes are designed from the list queries (filter + order + tiebreak), and
each list query's plan is checked in a test." The statements here are the repository's
own, compiled by the app's engine for each backend and explained by the real database
after it has been filled with several users' rows and ANALYZEd, so the planner picks
indexes on cost, not because it was told to (no ``enable_seqscan = off``).

Asserted for each query: the sessions (or messages) table is reached through a keyed
index search, never a scan of the table or of a whole index, and no sort step runs over
the user's rows (PostgreSQL: no Sort/Incremental Sort node; SQLite: no temp B-tree).
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from chatkeep.core.models import ChatSession, Domain, Message, SessionCount, Tenant, User
from chatkeep.core.repository.counters import rebuild_counters
from chatkeep.db.engine import create_engine
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.settings import Settings
from tests.databases import fresh_postgres_database

pytestmark = pytest.mark.anyio

USERS = 6
SESSIONS_PER_USER = 700
DOMAINS = 3
MESSAGES_PER_SESSION = 4
LONG_SESSION_MESSAGES = 800
BYSTANDERS = 3000
PAGE = 21  # what list_sessions fetches for a default page: limit + 1


class Explain(Executable, ClauseElement):
    """``<prefix> <statement>``, compiled by the statement's own dialect with its binds."""

    inherit_cache = False

    def __init__(self, prefix: str, statement: sa.Select[Any]) -> None:
        self.prefix = prefix
        self.statement = statement


@compiles(Explain)
def _compile_explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element.prefix} {compiler.process(element.statement, **kw)}"


@dataclass(frozen=True)
class Plan:
    """What the database will do: the index searches it uses and whether it sorts."""

    dialect: str
    text: str
    index_searches: dict[str, set[str]]  # table → indexes searched by key
    full_scans: set[str]  # tables read whole (table or whole-index scan)
    sorts: bool
    index_only: set[str]  # indexes read without the table (covering / index-only)
    page_sorts_only: bool  # every sort is over a LIMITed page (above a Limit / outside it)


@dataclass(frozen=True)
class Seeded:
    engine: AsyncEngine
    tenant_id: int
    user_pk: int  # the user whose lists are explained; others share the tables
    domain_id: uuid.UUID
    long_session_id: int


# --- the database under test -------------------------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def plan_database_url(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'plans.db'}"
        upgrade_to_head(Settings(database_url=url, secret_key="test"))  # type: ignore[arg-type]
        yield url
        return
    with fresh_postgres_database() as url:
        upgrade_to_head(Settings(database_url=url, secret_key="test"))  # type: ignore[arg-type]
        yield url


@pytest.fixture(scope="module")
async def seeded(plan_database_url: str, tmp_path_factory: Any) -> AsyncIterator[Seeded]:
    settings = Settings(
        database_url=plan_database_url,
        secret_key="test",  # type: ignore[arg-type]
        secret_key_file=Path(tmp_path_factory.mktemp("key")) / "unused",
    )
    engine = create_engine(settings)
    try:
        async with engine.begin() as conn:
            seeded = await _seed(conn, engine)
        async with AsyncSession(engine) as db, db.begin():
            for tenant_id in await db.scalars(sa.select(Tenant.id)):
                await rebuild_counters(db, tenant_id)
        async with engine.begin() as conn:
            await _add_counted_bystanders(conn, seeded)
        async with engine.connect() as conn:
            # VACUUM as autovacuum would have by now: it sets the visibility map, without
            # which PostgreSQL cannot plan an index-only scan.
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            postgres = conn.dialect.name == "postgresql"
            await conn.execute(sa.text("VACUUM ANALYZE" if postgres else "ANALYZE"))
        yield seeded
    finally:
        await engine.dispose()


async def _seed(conn: AsyncConnection, engine: AsyncEngine) -> Seeded:
    """Two tenants, several users with hundreds of sessions each, one long conversation.

    Sort keys tie often (activity on the hour, pins at a few shared instants) so the id
    tiebreak matters, and the long conversation's messages are interleaved with everyone
    else's, as appends from many users are.
    """
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    users: list[tuple[int, int]] = []  # (tenant_id, user_pk)
    domains: dict[int, list[uuid.UUID]] = {}
    for name in ("plans-a", "plans-b"):
        tenant_id = await conn.scalar(
            sa.insert(Tenant).values(name=name, created_at=t0).returning(Tenant.id)
        )
        domains[tenant_id] = [uuid.uuid4() for _ in range(DOMAINS)]
        await conn.execute(
            sa.insert(Domain),
            [
                {"id": d, "tenant_id": tenant_id, "name": f"d{i}", "is_default": i == 0,
                 "created_at": t0, "updated_at": t0}
                for i, d in enumerate(domains[tenant_id])
            ],
        )  # fmt: skip
        for n in range(USERS // 2):
            user_pk = await conn.scalar(
                sa.insert(User)
                .values(tenant_id=tenant_id, external_id=f"u{n}", created_at=t0)
                .returning(User.id)
            )
            users.append((tenant_id, user_pk))

    counter = itertools.count()
    sessions: list[dict[str, Any]] = []
    for tenant_id, user_pk in users:
        for n in range(SESSIONS_PER_USER):
            i = next(counter)
            created = t0 + timedelta(minutes=i)
            last = created.replace(minute=0) + timedelta(hours=(i * 7919) % 500) if n % 3 else None
            pinned_at = t0 + timedelta(days=30, hours=n % 3) if n % 40 == 0 else None
            sessions.append(
                {"uuid": uuid.uuid4(), "tenant_id": tenant_id, "user_pk": user_pk,
                 "domain_id": domains[tenant_id][n % DOMAINS], "title": f"topic {(i * 31) % 97}",
                 "system_context": "", "is_pinned": pinned_at is not None,
                 "pinned_at": pinned_at, "archived": n % 5 == 0, "created_at": created,
                 "updated_at": max(created, last or created) + timedelta(seconds=n % 7),
                 "last_message_at": last, "recent_at": pinned_at or last or created,
                 "message_count": MESSAGES_PER_SESSION if last else 0, "metadata": {}}
            )  # fmt: skip
    await conn.execute(sa.insert(ChatSession), sessions)

    talked = (
        await conn.execute(
            sa.select(ChatSession.id, ChatSession.tenant_id, ChatSession.user_pk)
            .where(ChatSession.last_message_at.is_not(None))
            .order_by(ChatSession.id)
        )
    ).all()
    long_session = talked[0]  # the first user's
    owners = [s for s in talked[1::2] for _ in range(MESSAGES_PER_SESSION)]
    stride = len(owners) // LONG_SESSION_MESSAGES
    for k in range(LONG_SESSION_MESSAGES):
        owners.insert(k * (stride + 1), long_session)
    await conn.execute(
        sa.insert(Message),
        [
            {"tenant_id": s.tenant_id, "user_pk": s.user_pk, "session_id": s.id,
             "role": "user" if k % 2 == 0 else "assistant", "content": f"message {k}",
             "created_at": t0 + timedelta(seconds=k), "metadata": {}}
            for k, s in enumerate(owners)
        ],
    )  # fmt: skip
    tenant_id, user_pk = users[0]
    assert (long_session.tenant_id, long_session.user_pk) == (tenant_id, user_pk)
    return Seeded(engine, tenant_id, user_pk, domains[tenant_id][1], long_session.id)


async def _add_counted_bystanders(conn: AsyncConnection, seeded: Seeded) -> None:
    """Many more users, each with a counter row: the counter table then spans many pages,
    as it does in production, and its plans are costed like it (not one-page seq scans)."""
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    users = [
        {"tenant_id": seeded.tenant_id, "external_id": f"bystander{n}", "created_at": t0}
        for n in range(BYSTANDERS)
    ]
    user_pks = (await conn.execute(sa.insert(User).returning(User.id), users)).scalars().all()
    await conn.execute(
        sa.insert(SessionCount),
        [
            {"tenant_id": seeded.tenant_id, "user_pk": pk, "archived": False,
             "domain_id": seeded.domain_id, "sessions": 1}
            for pk in user_pks
        ],
    )  # fmt: skip


# --- reading plans --------------------------------------------------------------------


async def explain(seeded: Seeded, statement: sa.Select[Any]) -> Plan:
    async with seeded.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            raw = (await conn.execute(Explain("EXPLAIN (FORMAT JSON)", statement))).scalar_one()
            return _postgres_plan(raw if isinstance(raw, list) else json.loads(raw))
        rows = (await conn.execute(Explain("EXPLAIN QUERY PLAN", statement))).all()
        return _sqlite_plan([(row[0], row[1], row[3]) for row in rows])


def _postgres_plan(document: list[dict[str, Any]]) -> Plan:
    searches: dict[str, dict[str, str]] = {}
    scans: set[str] = set()
    index_only: set[str] = set()
    sorts: list[bool] = []  # per Sort node: does a Limit run below it?

    def has_limit(node: dict[str, Any]) -> bool:
        return node["Node Type"] == "Limit" or any(map(has_limit, node.get("Plans", [])))

    def walk(node: dict[str, Any], heap: str | None) -> None:
        kind = node["Node Type"]
        table = node.get("Relation Name") or heap  # a bitmap index scan's table is its parent's
        if kind in {"Sort", "Incremental Sort"}:
            sorts.append(any(map(has_limit, node.get("Plans", []))))
        elif kind in {"Seq Scan", "Tid Scan", "Tid Range Scan"} and table:
            scans.add(table)
        elif kind in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"} and table:
            if "Index Cond" in node:
                searches.setdefault(table, {})[node["Index Name"]] = node["Index Cond"]
            else:
                scans.add(table)  # an ordered walk over the whole index
            if kind == "Index Only Scan":
                index_only.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child, table if kind == "Bitmap Heap Scan" else None)

    walk(document[0]["Plan"], None)
    text = json.dumps(document, indent=1)
    return Plan("postgresql", text, searches, scans, bool(sorts), index_only, all(sorts))


def _sqlite_plan(rows: list[tuple[int, int, str]]) -> Plan:
    """From EXPLAIN QUERY PLAN's (id, parent, detail) rows."""
    searches: dict[str, dict[str, str]] = {}
    scans: set[str] = set()
    index_only: set[str] = set()
    subqueries = {i for i, _, d in rows if d.startswith(("CO-ROUTINE", "MATERIALIZE"))}
    parents = {i: parent for i, parent, _ in rows}

    def in_subquery(i: int) -> bool:
        while i:
            if i in subqueries:
                return True
            i = parents.get(i, 0)
        return False

    for _, _, detail in rows:
        words = detail.split()
        if words[0] == "SEARCH" and "INDEX" in words:
            index = words[words.index("INDEX") + 1]
            searches.setdefault(words[1], {})[index] = detail.split(index, 1)[1]
            if "COVERING" in words:
                index_only.add(index)
        elif words[0] == "SEARCH":
            searches.setdefault(words[1], {})["<rowid>"] = detail
        elif words[0] == "SCAN":
            scans.add(words[1])
    sorting = [i for i, _, d in rows if "USE TEMP B-TREE" in d]
    # A sort outside the page's subquery orders the page it returned, not the user's rows.
    page_sorts = bool(subqueries) and not any(in_subquery(i) for i in sorting)
    text = "\n".join(f"{i} {parent} {d}" for i, parent, d in rows)
    return Plan("sqlite", text, searches, scans, bool(sorting), index_only, page_sorts)


def _leading(table: str, key: tuple[str, ...]) -> set[str]:
    """The table's indexes whose leading columns are ``key``."""
    return {
        str(index.name)
        for index in ChatSession.metadata.tables[table].indexes
        if tuple(c.name for c in index.columns)[: len(key)] == key
    }


def assert_keyed_and_unsorted(
    plan: Plan, table: str, key: tuple[str, ...], indexes: set[str] | None = None
) -> None:
    """``table`` is searched by ``key`` through ``indexes`` (default: any led by ``key``)."""
    allowed = _leading(table, key) if indexes is None else indexes
    assert allowed <= _leading(table, key), f"{sorted(allowed)} are not led by {key}"
    assert table not in plan.full_scans, f"{table} is scanned whole:\n{plan.text}"
    used = plan.index_searches.get(table, {})
    assert used and set(used) <= allowed, (
        f"{table} is not searched through {sorted(allowed)} (used {sorted(used)}):\n{plan.text}"
    )
    for index, condition in used.items():
        for column in key:
            assert re.search(rf"\b{column} ?= ?", condition), (
                f"{index} is not searched by {column}: {condition}\n{plan.text}"
            )
    assert not plan.sorts, f"the plan sorts the user's rows:\n{plan.text}"


SHARD_KEY = ("tenant_id", "user_pk")
ROW_LOOKUPS = {"pk_sessions", "<rowid>"}  # by primary key: the deferred join's second step


def assert_index_only(plan: Plan, table: str, indexes: set[str]) -> None:
    """``table`` is read through ``indexes`` alone, keyed by the shard key; no full scan."""
    assert table not in plan.full_scans, f"{table} is scanned whole:\n{plan.text}"
    used = plan.index_searches.get(table, {})
    keyed = {
        i for i, cond in used.items() if all(re.search(rf"\b{c} ?= ?", cond) for c in SHARD_KEY)
    }
    assert keyed & indexes & plan.index_only, (
        f"{table} is not read index-only through {sorted(indexes)}:\n{plan.text}"
    )
    assert set(used) <= indexes | ROW_LOOKUPS, f"{table} is also read otherwise:\n{plan.text}"
