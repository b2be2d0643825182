"""Load a planned data set: accounts through the core, sessions and messages in bulk.

Tenants, domains, users and API keys go through the project's own services (the code
path a real deployment uses); sessions and messages, the bulk, through SQLAlchemy Core
``insert(table)`` executemany in large batches. Then the core's per-user counters are
rebuilt and the planner statistics refreshed, as an operator would after a bulk import.
"""

from __future__ import annotations

import importlib
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from tqdm import tqdm

from chatkeep.bench.dataset import (
    DOMAIN_NAMES,
    WRITER_USERS,
    DatasetPlan,
    PlannedSession,
    plan_sessions,
)
from chatkeep.core import domains, tenants
from chatkeep.core.models import Base, User
from chatkeep.core.types import CredentialKind
from chatkeep.runtime import Runtime, unit_of_work

REFERENCE_TIME = datetime(2026, 1, 1, tzinfo=UTC)  # fixed, so rows are identical per seed
BATCH = 10_000
SESSIONS = Base.metadata.tables["sessions"]
MESSAGES = Base.metadata.tables["messages"]
USERS = Base.metadata.tables["users"]


@dataclass
class LoadedDataset:
    """What the scenarios need to know about a loaded set (kept as its manifest)."""

    sessions: int
    seed: int
    heavy_sessions: int
    heavy_users: int
    users: int
    messages: int
    keys: dict[str, str]  # user_id → API key (bench data only)
    typical_domain: str  # the typical user's most used domain (AISquare domain_id)
    load_seconds: float = 0.0
    counters: str = "not rebuilt"
    extra: dict[str, Any] = field(default_factory=dict)


async def load_dataset(state: Runtime, plan: DatasetPlan, progress: bool) -> LoadedDataset:
    """Fill an empty, migrated database with ``plan``."""
    clock = _PhaseClock()
    tenant_ids, domain_ids = await _create_tenants(state, plan)
    user_pks = await _create_users(state, plan, tenant_ids)
    keys = await _create_keys(state, plan)
    clock.lap("accounts")
    sessions, messages, typical_domain = await _insert_sessions(
        state, plan, tenant_ids, domain_ids, user_pks, progress
    )
    clock.lap("bulk_insert")
    counters = await _rebuild_counters(state, list(tenant_ids.values()))
    clock.lap("counters")
    await _analyze(state)
    clock.lap("analyze")
    return LoadedDataset(
        sessions=sessions, seed=plan.seed, heavy_sessions=plan.heavy_sessions,
        heavy_users=plan.heavy_count, users=len(plan.users), messages=messages, keys=keys,
        typical_domain=str(typical_domain), counters=counters,
        load_seconds=round(sum(clock.phases.values()), 1), extra={"phases": clock.phases},
    )  # fmt: skip


class _PhaseClock:
    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(now - self._last, 2)
        self._last = now


async def _create_tenants(
    state: Runtime, plan: DatasetPlan
) -> tuple[dict[int, int], dict[int, list[uuid.UUID]]]:
    """Each tenant with its Default domain and a small tree of named domains."""
    tenant_ids: dict[int, int] = {}
    domain_ids: dict[int, list[uuid.UUID]] = {}
    async with unit_of_work(state, write=True) as uow:
        for index, name in enumerate(plan.tenant_names):
            tenant = await tenants.create_tenant(uow, name)
            operator = tenants.operator_principal(tenant)
            ids = [(await domains.domain_tree(uow, operator))[0].id]  # Default
            for i, domain_name in enumerate(DOMAIN_NAMES):
                parent = ids[i - 3] if i >= 4 else None  # the last four nest under the first
                ids.append((await domains.create_domain(uow, operator, domain_name, parent)).id)
            tenant_ids[index], domain_ids[index] = tenant.id, ids
    return tenant_ids, domain_ids


async def _create_users(state: Runtime, plan: DatasetPlan, tenant_ids: dict[int, int]) -> list[int]:
    """The users scenarios act as through the core; the thousands of others in bulk.

    Through the service every user costs three round trips: at 1m (22,000 users) that
    took longer than loading the million sessions, for rows no scenario signs in as.
    """
    names = plan.tenant_names
    acting = [u for u in plan.users if u.user_id == "typical" or u.user_id.startswith("heavy-")]
    async with unit_of_work(state, write=True) as uow:
        for user in acting:
            await tenants.create_user(uow, names[user.tenant], user.user_id)
    rows = [{"tenant_id": tenant_ids[u.tenant], "external_id": u.user_id,
             "created_at": REFERENCE_TIME} for u in plan.users if u not in acting]  # fmt: skip
    async with state.engine.begin() as conn:
        for start in range(0, len(rows), BATCH):
            await conn.execute(insert(USERS), rows[start : start + BATCH])
        found = await conn.execute(select(User.tenant_id, User.external_id, User.id))
        pk = {(tenant, external): user_pk for tenant, external, user_pk in found}
    return [pk[(tenant_ids[u.tenant], u.user_id)] for u in plan.users]


async def _create_keys(state: Runtime, plan: DatasetPlan) -> dict[str, str]:
    """A user key for each user a scenario acts as; the writers are users of their own."""
    heavy = [u.user_id for u in plan.users if u.user_id.startswith("heavy-")]
    who = ["typical", *heavy, *WRITER_USERS]
    keys: dict[str, str] = {}
    async with unit_of_work(state, write=True) as uow:
        for user_id in who:
            issued = await tenants.create_api_key(
                uow, plan.tenant_names[0], user_id, kind=CredentialKind.USER, scopes=["*"]
            )
            keys[user_id] = issued.key
    return keys


async def _insert_sessions(
    state: Runtime,
    plan: DatasetPlan,
    tenant_ids: dict[int, int],
    domain_ids: dict[int, list[uuid.UUID]],
    user_pks: list[int],
    progress: bool,
) -> tuple[int, int, uuid.UUID]:
    sessions: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    session_id = message_id = 0
    typical_domains: dict[uuid.UUID, int] = {}
    bar = tqdm(total=plan.sessions, desc="sessions", unit="row", disable=not progress)
    async with state.engine.connect() as conn:
        await _fast_load_settings(conn)
        for index, user in enumerate(plan.users):
            for planned in plan_sessions(plan, index):
                session_id += 1
                domain = domain_ids[user.tenant][planned.domain]
                if user.user_id == "typical":
                    typical_domains[domain] = typical_domains.get(domain, 0) + 1
                row = _session_row(session_id, tenant_ids[user.tenant], user_pks[index],
                                   domain, planned)  # fmt: skip
                sessions.append(row)
                for m in _message_rows(message_id, row, planned):
                    messages.append(m)
                    message_id += 1
                if len(sessions) >= BATCH:
                    await _flush(conn, sessions, messages)
                    bar.update(BATCH)
        bar.update(len(sessions))
        await _flush(conn, sessions, messages)
        await _bump_sequences(conn)
    bar.close()
    return session_id, message_id, max(typical_domains, key=lambda d: typical_domains[d])


def _session_row(
    session_id: int, tenant_id: int, user_pk: int, domain: uuid.UUID, planned: PlannedSession
) -> dict[str, Any]:
    created = REFERENCE_TIME - timedelta(seconds=planned.created_offset)
    active = REFERENCE_TIME - timedelta(seconds=planned.active_offset)
    last_message = active if planned.messages else None
    pinned_at = active + timedelta(minutes=5) if planned.pinned else None
    return {
        "id": session_id,
        # Deterministic and unique by construction: the session id sits in the low bits.
        "uuid": uuid.UUID(int=(0x5EED_C4A7_0000_0001 << 64) | session_id, version=4),
        "tenant_id": tenant_id, "user_pk": user_pk, "domain_id": domain,
        "title": planned.title, "system_context": "", "is_pinned": planned.pinned,
        "pinned_at": pinned_at, "archived": planned.archived, "created_at": created,
        "updated_at": pinned_at or active, "last_message_at": last_message,
        "recent_at": pinned_at or active, "message_count": planned.messages, "metadata": {},
    }  # fmt: skip


def _message_rows(
    first_id: int, session: dict[str, Any], planned: PlannedSession
) -> Iterator[dict[str, Any]]:
    for turn in range(planned.messages):
        role = "user" if turn % 2 == 0 else "assistant"
        yield {
            "id": first_id + turn + 1, "tenant_id": session["tenant_id"],
            "user_pk": session["user_pk"], "session_id": session["id"], "role": role,
            "content": f"{role} turn {turn} about {session['title']}",
            "created_at": session["created_at"] + timedelta(seconds=turn),
            "metadata": {}, "idempotency_key": None, "request_hash": None,
        }  # fmt: skip


async def _fast_load_settings(conn: AsyncConnection) -> None:
    if conn.dialect.name == "postgresql":
        # Only the load itself skips waiting for the WAL flush; the benchmark's writes
        # run through the server with the normal, durable settings.
        await conn.execute(text("SET synchronous_commit = off"))


async def _flush(
    conn: AsyncConnection, sessions: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> None:
    for table, rows in ((SESSIONS, sessions), (MESSAGES, messages)):
        if not rows:
            continue
        if conn.dialect.name == "postgresql":
            await _copy(conn, table.name, rows)
        else:
            await conn.execute(insert(table), rows)
    await conn.commit()
    sessions.clear()
    messages.clear()


async def _copy(conn: AsyncConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL's COPY through asyncpg: several times faster than executemany here.

    The rows bypass SQLAlchemy's type processing, so JSON goes in as its text; every
    other value (aware datetimes, UUIDs) is already what asyncpg encodes natively.
    """
    columns = list(rows[0])
    records = [
        tuple(json.dumps(v) if c == "metadata" else v for c, v in row.items()) for row in rows
    ]
    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table, records=records, columns=columns)


async def _bump_sequences(conn: AsyncConnection) -> None:
    """Explicit ids were inserted: move PostgreSQL's sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in ("sessions", "messages"):
        await conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
    await conn.commit()


async def _rebuild_counters(state: Runtime, tenant_ids: list[int]) -> str:
    """Rebuild the core's maintained per-user counters after the bulk insert.

    BENCH-COUNTERS: the bulk insert bypasses the services that keep the counters, so the
    core's own rebuild function must run. It is looked up at run time because it lands
    in the core separately; until it exists the report says "absent".
    """
    try:
        module = importlib.import_module("chatkeep.core.repository.counters")
    except ModuleNotFoundError:
        return "absent (chatkeep.core.repository.counters not in this build)"
    rebuild = module.rebuild_counters
    async with unit_of_work(state, write=True) as uow:
        for tenant_id in tenant_ids:
            await rebuild(uow.db, tenant_id)
    return "rebuilt with chatkeep.core.repository.counters.rebuild_counters"


async def _analyze(state: Runtime) -> None:
    """Fresh planner statistics; on PostgreSQL also the visibility map (index-only scans)."""
    async with state.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE"))
        else:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
