"""Time the list paths in-process on a user with 100,000 sessions (SQLite and PostgreSQL).

Not the benchmark (that is `make bench`, over HTTP): this calls the AI-doc and AISquare
handlers' code directly, one read transaction per call, to see what the database work of
each list costs and how it grows with the user. It made the figures in docs/decisions.md
("List paths at scale"). Run:

    uv run python bench/list_paths.py [--sessions 100000] [--db sqlite|postgresql|both]

PostgreSQL comes from CHATKEEP_TEST_POSTGRES_URL (default postgres@127.0.0.1:5432); a
throwaway database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from chatkeep.api.aidoc.schemas import ChatListRequest, SessionListRequest
from chatkeep.api.aidoc.sessions import get_chat_list, get_chat_session_list
from chatkeep.core import sessions, tenants
from chatkeep.core.auth import authenticate_api_key
from chatkeep.core.models import ChatSession, Domain, Message, User
from chatkeep.core.types import CredentialKind, Principal, SessionFilter, SessionOrder
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.runtime import Runtime, unit_of_work
from chatkeep.settings import Settings

PG_ADMIN = os.environ.get(
    "CHATKEEP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
WORDS = ("invoice", "budget", "travel", "kernel", "garden", "python", "tax", "recipe",
         "contract", "holiday", "lease", "physics", "poetry", "router", "salary",
         "vaccine")  # fmt: skip
TYPICAL_USERS = 200
TYPICAL_SESSIONS = 50
LONG_CONVERSATION = 3000  # messages in one session, for GetChatList's last page


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'paths.db'}"
        return
    name = f"chatkeep_paths_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


async def seed(state: Runtime, heavy_sessions: int) -> tuple[Principal, uuid.UUID]:
    """One tenant: a heavy user, many typical users, one long conversation of the heavy user."""
    async with unit_of_work(state, write=True) as uow:
        tenant = await tenants.create_tenant(uow, "paths")
        issued = await tenants.create_api_key(
            uow, "paths", "heavy", kind=CredentialKind.SERVICE, scopes=("*",)
        )
    async with unit_of_work(state, write=True) as uow:
        principal = await authenticate_api_key(uow, issued.key)
        domain = await uow.db.scalar(sa.select(Domain.id).where(Domain.tenant_id == tenant.id))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    users = [("heavy", heavy_sessions)] + [
        (f"u{n}", TYPICAL_SESSIONS) for n in range(TYPICAL_USERS)
    ]
    async with state.engine.begin() as conn:
        for external_id, count in users:
            user_pk = await conn.scalar(
                sa.select(User.id)
                .where(User.tenant_id == tenant.id, User.external_id == external_id)
            ) or await conn.scalar(
                sa.insert(User).values(tenant_id=tenant.id, external_id=external_id, created_at=t0)
                .returning(User.id)
            )  # fmt: skip
            for start in range(0, count, 10_000):
                await conn.execute(sa.insert(ChatSession), [
                    {"uuid": uuid.uuid4(), "tenant_id": tenant.id, "user_pk": user_pk,
                     "domain_id": domain, "title": f"{WORDS[i % len(WORDS)]} notes {i}",
                     "system_context": "", "is_pinned": i % 500 == 0,
                     "pinned_at": t0 if i % 500 == 0 else None, "archived": i % 20 == 0,
                     "created_at": t0 + timedelta(seconds=i),
                     "updated_at": t0 + timedelta(seconds=(i * 7919) % count),
                     "last_message_at": None, "recent_at": t0 + timedelta(seconds=i),
                     "message_count": 0, "metadata": {}}
                    for i in range(start, min(count, start + 10_000))
                ])  # fmt: skip
        long_id, long_uuid, heavy_pk = (await conn.execute(
            sa.select(ChatSession.id, ChatSession.uuid, ChatSession.user_pk)
            .where(ChatSession.tenant_id == tenant.id, ChatSession.archived.is_(False))
            .order_by(ChatSession.id).limit(1)
        )).one()  # fmt: skip
        await conn.execute(sa.insert(Message), [
            {"tenant_id": tenant.id, "user_pk": heavy_pk, "session_id": long_id,
             "role": "user" if k % 2 == 0 else "assistant", "content": f"turn {k} " + "x" * 400,
             "created_at": t0 + timedelta(seconds=k), "metadata": {}}
            for k in range(LONG_CONVERSATION)
        ])  # fmt: skip
    try:  # the maintained counters, where this version of chatkeep has them
        from chatkeep.core.repository.counters import rebuild_counters
    except ImportError:
        pass
    else:
        async with unit_of_work(state, write=True) as uow:
            await rebuild_counters(uow.db, tenant.id)
    async with state.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(
            sa.text("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")
        )
    return principal, long_uuid


def scenarios(state: Runtime, principal: Principal, long_session: uuid.UUID) -> dict[str, Any]:
    def aidoc(**body: Any) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            async with unit_of_work(state, write=False) as uow:
                return await get_chat_session_list(
                    uow, principal, "rid", SessionListRequest(**body)
                )

        return call

    def aisquare(user: str, offset: int) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:  # what the handler does for ?limit=20&offset=N
            async with unit_of_work(state, write=False) as uow:
                flt = SessionFilter(user_id=user)
                total = await sessions.count_sessions(uow, principal, flt)
                found = sessions.stream_sessions(uow, principal, flt, SessionOrder.RECENT,
                                                 limit=20, offset=offset)  # fmt: skip
                return total, [s async for s in found]

        return call

    def chats(page: int) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            async with unit_of_work(state, write=False) as uow:
                body = ChatListRequest(session_id=long_session, current_page=page, page_size=10)
                return await get_chat_list(body, uow, principal, "rid")

        return call

    return {
        "aidoc page 1, typical user": aidoc(user_id="u7"),
        "aidoc page 1, heavy user": aidoc(user_id="heavy"),
        "aidoc page 1000 x 10, heavy user": aidoc(user_id="heavy", current_page=1000),
        "aidoc name filter, heavy user": aidoc(user_id="heavy", name="Budget"),
        "aidoc rare name filter, heavy user": aidoc(user_id="heavy", name="notes 4242"),
        "aisquare limit 20 + total, heavy user": aisquare("heavy", 0),
        "aisquare limit 20 offset 50000, heavy user": aisquare("heavy", 50_000),
        "GetChatList page 1, 3000 messages": chats(1),
        "GetChatList page 150 (last), 3000 messages": chats(150),
    }


def measure(kind: str, heavy_sessions: int, rounds: int) -> None:
    with database(kind) as url:
        settings = Settings(database_url=url, secret_key="paths")  # type: ignore[arg-type]
        upgrade_to_head(settings)  # sync (it runs its own event loop): before ours starts
        asyncio.run(run(Runtime.build(settings), kind, heavy_sessions, rounds))


async def run(state: Runtime, kind: str, heavy_sessions: int, rounds: int) -> None:
    try:
        started = time.perf_counter()
        principal, long_session = await seed(state, heavy_sessions)
        print(f"\n{kind}: seeded in {time.perf_counter() - started:.1f} s")
        for name, call in scenarios(state, principal, long_session).items():
            for _ in range(max(3, rounds // 10)):
                await call()  # warm-up
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                await call()
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"  {name:44} p50 {statistics.median(times):8.2f} ms   p99 {p99:8.2f} ms")
    finally:
        await state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    for kind in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        measure(kind, args.sessions, args.rounds)


if __name__ == "__main__":
    main()
