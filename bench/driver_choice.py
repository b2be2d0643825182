"""Measure which database drivers serve chatkeep's hot list query fastest.

Simulates what the server does per request: from inside an event loop, run the
"recent sessions of one user" page query either through an async driver
(asyncpg / aiosqlite, awaited directly) or through a sync driver
(psycopg / sqlite3) hopped onto a worker thread, as FastAPI does for sync
handlers. Prints queries/s at concurrency 1 and 8 for each combination.

    uv run python bench/driver_choice.py [--rows 50000] [--queries 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

PG_ADMIN_URL = os.environ.get("CHATKEEP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
USERS = 500

metadata = sa.MetaData()
sessions = sa.Table(
    "bench_sessions",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", sa.Integer, nullable=False),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("title", sa.String(512), nullable=False),
    sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_bench_recent", "tenant_id", "user_id", "last_activity_at", "id"),
)


def page_query(user: int) -> sa.Select[tuple[int, str]]:
    return (
        sa.select(sessions.c.id, sessions.c.title)
        .where(sessions.c.tenant_id == 1, sessions.c.user_id == user)
        .order_by(sessions.c.last_activity_at.desc(), sessions.c.id.desc())
        .limit(20)
    )


def fill(sync_url: str, rows: int) -> None:
    import datetime as dt

    engine = sa.create_engine(sync_url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    now = dt.datetime.now(dt.UTC)
    batch = [
        {
            "id": i,
            "tenant_id": 1,
            "user_id": i % USERS,
            "title": f"session {i}",
            "last_activity_at": now - dt.timedelta(seconds=i),
        }
        for i in range(1, rows + 1)
    ]
    with engine.begin() as conn:
        conn.execute(sessions.insert(), batch)
    engine.dispose()


async def run(label: str, one_query: Callable[[int], Awaitable[None]], queries: int) -> None:
    for concurrency in (1, 8):
        users = [random.randrange(USERS) for _ in range(queries)]
        started = time.perf_counter()

        async def worker(share: list[int]) -> None:
            for user in share:
                await one_query(user)

        async with anyio.create_task_group() as tg:
            for k in range(concurrency):
                tg.start_soon(worker, users[k::concurrency])
        elapsed = time.perf_counter() - started
        print(f"{label:<34} concurrency {concurrency}: {queries / elapsed:8.0f} queries/s")


async def measure(name: str, sync_url: str, async_url: str, queries: int) -> None:
    sync_engine = sa.create_engine(sync_url, pool_size=8)
    async_engine = create_async_engine(async_url, pool_size=8)

    def sync_query(user: int) -> None:
        with sync_engine.connect() as conn:
            conn.execute(page_query(user)).all()

    async def threaded(user: int) -> None:
        await anyio.to_thread.run_sync(sync_query, user)

    async def awaited(user: int) -> None:
        async with async_engine.connect() as conn:
            (await conn.execute(page_query(user))).all()

    for _ in range(2):  # the first round warms pools and caches
        await run(f"{name} sync driver in thread", threaded, queries)
        await run(f"{name} async driver", awaited, queries)
    sync_engine.dispose()
    await async_engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=3_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.db")
        fill(f"sqlite:///{path}", args.rows)
        await measure(
            "SQLite  sqlite3 | aiosqlite",
            f"sqlite:///{path}",
            f"sqlite+aiosqlite:///{path}",
            args.queries,
        )

    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS chatkeep_driver_bench"))
        conn.execute(sa.text("CREATE DATABASE chatkeep_driver_bench"))
    base = PG_ADMIN_URL.rsplit("/", 1)[0] + "/chatkeep_driver_bench"
    try:
        fill(base.replace("postgresql://", "postgresql+psycopg://"), args.rows)
        await measure(
            "PostgreSQL psycopg | asyncpg",
            base.replace("postgresql://", "postgresql+psycopg://"),
            base.replace("postgresql://", "postgresql+asyncpg://"),
            args.queries,
        )
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS chatkeep_driver_bench WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
