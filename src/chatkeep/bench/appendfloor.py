"""The appends' database floor: the append transaction issued straight through the driver.

What the writes scenario's appends would reach if HTTP, the framework, the ORM and
chatkeep's own code cost nothing: per connection (the same concurrency, one writer user
each, as in the scenario) ``BEGIN``; lock the session row; insert the message; move the
session's counters; ``COMMIT``, durably (PostgreSQL's default ``synchronous_commit =
on``; SQLite WAL with ``synchronous=FULL``, ``BEGIN IMMEDIATE``, one connection per
thread). The statements are written out here as plain SQL: they are the transaction's
shape, not whatever the repository emits this week (the report's ratio is what says how
close the server comes).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from chatkeep.bench.dataset import WRITER_USERS
from chatkeep.bench.stats import latency_summary

_WRITER = "SELECT s.id, s.tenant_id, s.user_pk FROM sessions s JOIN users u ON u.id = s.user_pk "
_WRITERS = _WRITER + "WHERE u.external_id = {p} ORDER BY s.id LIMIT 1"
_LOCK = "SELECT id FROM sessions WHERE tenant_id = {p} AND user_pk = {p} AND id = {p} FOR UPDATE"
_INSERT = (
    "INSERT INTO messages (tenant_id, user_pk, session_id, role, content, created_at, metadata)"
    " VALUES ({p}, {p}, {p}, 'user', 'What changed since Q3?', {p}, '{{}}')"
)
_COUNT = (
    "UPDATE sessions SET message_count = message_count + 1, qa_pair_count = qa_pair_count + 1,"
    " last_message_at = {p}, updated_at = {p}, recent_at = coalesce(pinned_at, {p})"
    " WHERE id = {p}"
)


@dataclass(frozen=True, slots=True)
class Writer:
    session_id: int
    tenant_id: int
    user_pk: int


def measure_append_floor(
    url: str, concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    """Appends/s and latency of the bare transaction; writers need a session each (the
    writes scenario, run before this, has made them)."""
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_floor(make_url(url).database or "", concurrency, warmup, duration)
    return asyncio.run(_postgres_floor(url, concurrency, warmup, duration))


def _result(samples: list[int], duration: float, concurrency: int) -> dict[str, Any]:
    summary = latency_summary(samples, duration)
    return {"appends_per_s": summary["per_s"], "latency": summary, "concurrency": concurrency}


async def _postgres_floor(
    url: str, concurrency: int, warmup: float, duration: float
) -> dict[str, Any]:
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conns = [await asyncpg.connect(dsn) for _ in range(concurrency)]
    try:
        writers = [await _pg_writer(conns[0], k) for k in range(concurrency)]
        lock, insert, count = (_numbered(s.format(p="${}")) for s in (_LOCK, _INSERT, _COUNT))
        started = time.perf_counter()
        measure_from, stop_at = started + warmup, started + warmup + duration
        samples: list[int] = []

        async def run(conn: asyncpg.Connection, w: Writer) -> None:
            while (begun := time.perf_counter()) < stop_at:
                now = datetime.now(UTC)
                async with conn.transaction():
                    await conn.fetchval(lock, w.tenant_id, w.user_pk, w.session_id)
                    await conn.execute(insert, w.tenant_id, w.user_pk, w.session_id, now)
                    await conn.execute(count, now, now, now, w.session_id)
                ended = time.perf_counter()
                if begun >= measure_from and ended <= stop_at:
                    samples.append(int((ended - begun) * 1e9))

        await asyncio.gather(*(run(c, w) for c, w in zip(conns, writers, strict=True)))
    finally:
        for conn in conns:
            await conn.close()
    return _result(samples, duration, concurrency)


async def _pg_writer(conn: asyncpg.Connection, k: int) -> Writer:
    row = await conn.fetchrow(_numbered(_WRITERS.format(p="${}")), _writer_name(k))
    if row is None:
        raise RuntimeError(f"{_writer_name(k)} has no session: run the writes scenario first")
    return Writer(row["id"], row["tenant_id"], row["user_pk"])


def _numbered(sql: str) -> str:
    """``$1, $2, ...`` for asyncpg from a template's ``${}`` placeholders."""
    parts = sql.split("${}")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def _writer_name(k: int) -> str:
    return WRITER_USERS[k % len(WRITER_USERS)]


def _sqlite_floor(path: str, concurrency: int, warmup: float, duration: float) -> dict[str, Any]:
    lock, insert, count = (s.format(p="?").replace(" FOR UPDATE", "")
                           for s in (_LOCK, _INSERT, _COUNT))  # fmt: skip
    with sqlite3.connect(path) as first:
        writers = []
        for k in range(concurrency):
            row = first.execute(_WRITERS.format(p="?"), (_writer_name(k),)).fetchone()
            if row is None:
                raise RuntimeError(f"{_writer_name(k)} has no session: run writes first")
            writers.append(Writer(*row))
    started = time.perf_counter()
    measure_from, stop_at = started + warmup, started + warmup + duration
    samples: list[int] = []
    guard = threading.Lock()

    def run(w: Writer) -> None:
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        try:
            while (begun := time.perf_counter()) < stop_at:
                # SQLAlchemy's SQLite DateTime format, as the server stores it
                now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(lock, (w.tenant_id, w.user_pk, w.session_id)).fetchone()
                conn.execute(insert, (w.tenant_id, w.user_pk, w.session_id, now))
                conn.execute(count, (now, now, now, w.session_id))
                conn.execute("COMMIT")
                ended = time.perf_counter()
                if begun >= measure_from and ended <= stop_at:
                    with guard:
                        samples.append(int((ended - begun) * 1e9))
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _result(samples, duration, concurrency)
