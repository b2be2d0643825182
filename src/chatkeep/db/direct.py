"""Hot reads straight on the driver: a statement compiled once, run without the execution layers.

A listed session page costs the database ~0.1 ms; through an ``AsyncSession`` each
statement also pays a greenlet switch, a cache-key walk, a result-metadata build and, on
SQLite, a hop to aiosqlite's thread and back (docs/decisions.md, "Request path
performance"). The fast lane (``api/fast_lane``) runs the few statements every list
request needs here instead: compiled by SQLAlchemy once per database dialect, with the
column types' own bind and result processors, so the rows are exactly those the
``AsyncSession`` path returns.

* SQLite: one stdlib connection per thread, queried on the event loop's thread. These
  are indexed reads of a few dozen rows; waiting for a thread takes longer than the read.
  ``busy_timeout`` is 0 and the connection is ``query_only``: a read that would wait, or
  anything unexpected, fails at once and the request takes the full path instead.
* PostgreSQL: a small asyncpg pool of its own, whose connections keep each statement
  prepared (asyncpg's statement cache).

A ``Snapshot`` block must not await anything but its fetches: on SQLite its statements
run synchronously between one ``BEGIN`` and its ``COMMIT``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import threading
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import Select, Uuid, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from chatkeep.settings import Settings

log = logging.getLogger("chatkeep.direct")

Processor = Callable[[Any], Any] | None
DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": pg_asyncpg.dialect(),  # type: ignore[no-untyped-call]
}


class DirectReadFailed(Exception):
    """The driver could not answer at once: the caller takes the full path instead."""


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement for one dialect: its SQL, its parameters in order, its processors."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]  # parameters the statement itself fixes (SQLite's OFFSET -1)
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]
    row: Callable[..., Any]  # a named tuple of the statement's columns

    @classmethod
    def of(cls, stmt: Select[Any], dialect: Dialect) -> Compiled:
        compiled = stmt.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        bind_processors = compiled._bind_processors
        fixed = {n: compiled.binds[n].value for n in names if not compiled.binds[n].required}
        columns = compiled._result_columns
        results = tuple(
            _memoized(process) if isinstance(c[3], Uuid) and process is not None else process
            for c in columns
            for process in [c[3]._cached_result_processor(dialect, None)]
        )
        return cls(
            sql=str(compiled),
            names=names,
            fixed=fixed,
            binds=tuple(cast(Processor, bind_processors.get(n)) for n in names),
            results=results,
            row=namedtuple("Row", [c[0] for c in columns]),
        )

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        out = []
        for name, process in zip(self.names, self.binds, strict=True):
            value = params[name] if name in params else self.fixed[name]
            out.append(value if process is None or value is None else process(value))
        return out

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Any]:
        make, processors = self.row, self.results
        return [
            make(*[v if p is None else p(v) for p, v in zip(processors, r, strict=True)])
            for r in raw
        ]


def _memoized(process: Callable[[Any], Any], size: int = 1024) -> Processor:
    """A UUID column's processor with a small memo: a list repeats its domains' ids, and
    parsing a UUID costs more than the rest of its row's conversions (SQLite stores hex)."""
    seen: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        found = seen.get(value)
        if found is None:
            if len(seen) >= size:
                seen.clear()
            found = seen[value] = process(value)
        return found

    return cached


class Prepared:
    """A hot statement, compiled for each database on first use."""

    def __init__(self, stmt: Select[Any] | Any) -> None:
        self.stmt = stmt
        self._compiled: dict[str, Compiled] = {}

    def compiled(self, backend: str) -> Compiled:
        found = self._compiled.get(backend)
        if found is None:
            found = self._compiled[backend] = Compiled.of(self.stmt, DIALECTS[backend])
        return found


class Snapshot(Protocol):
    async def fetch(self, stmt: Prepared, params: Mapping[str, Any]) -> list[Any]: ...


class DirectReads(Protocol):
    def snapshot(self, *, consistent: bool = True) -> Any:
        """``async with reads.snapshot() as read:`` several fetches, in one snapshot if
        ``consistent`` (else each sees the latest commit, as READ COMMITTED statements do);
        raises ``DirectReadFailed`` if the driver cannot answer at once."""

    def dispose(self) -> None:
        """Close every connection (called inside ``AsyncEngine.dispose``'s greenlet)."""


class _SqliteSnapshot:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def fetch(self, stmt: Prepared, params: Mapping[str, Any]) -> list[Any]:
        compiled = stmt.compiled("sqlite")
        try:
            raw = self.connection.execute(compiled.sql, compiled.args(params)).fetchall()
        except sqlite3.Error as exc:
            raise DirectReadFailed(str(exc)) from exc
        return compiled.rows(raw)


class SqliteReads:
    def __init__(self, path: str) -> None:
        self.path = path
        # One connection per thread (event loop): a connection is never used by two
        # threads at once, only closed from another by dispose().
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=0")
            connection.execute("PRAGMA query_only=ON")
            self._local.connection = connection
            self._opened.append(connection)
        return connection

    @asynccontextmanager
    async def snapshot(self, *, consistent: bool = True) -> AsyncIterator[Snapshot]:
        # Always one BEGIN: on SQLite a snapshot costs no more than separate statements.
        try:
            connection = self._connection()
            connection.execute("BEGIN")
        except sqlite3.Error as exc:
            raise DirectReadFailed(str(exc)) from exc
        try:
            yield _SqliteSnapshot(connection)
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    def dispose(self) -> None:
        while self._opened:
            self._opened.pop().close()
        self._local = threading.local()


class _PostgresSnapshot:
    def __init__(self, connection: asyncpg.Connection[Any]) -> None:
        self.connection = connection

    async def fetch(self, stmt: Prepared, params: Mapping[str, Any]) -> list[Any]:
        compiled = stmt.compiled("postgresql")
        try:
            raw = await self.connection.fetch(compiled.sql, *compiled.args(params))
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            raise DirectReadFailed(str(exc)) from exc
        return compiled.rows(raw)


async def _json_codecs(connection: asyncpg.Connection[Any]) -> None:
    # As SQLAlchemy's asyncpg dialect sets them up: JSON arrives decoded.
    for name in ("json", "jsonb"):
        await connection.set_type_codec(
            name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class PostgresReads:
    def __init__(self, dsn: str, *, max_size: int, command_timeout: float | None) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.command_timeout = command_timeout
        self._pool: asyncpg.Pool[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None

    async def _ready_pool(self) -> asyncpg.Pool[Any]:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._loop is loop:
            return self._pool
        if self._loop is not None and self._loop is not loop:
            raise DirectReadFailed("the pool belongs to another event loop")
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                try:
                    self._pool = await asyncpg.create_pool(
                        self.dsn, min_size=1, max_size=self.max_size, init=_json_codecs,
                        command_timeout=self.command_timeout,
                    )  # fmt: skip
                except (OSError, asyncpg.PostgresError) as exc:
                    raise DirectReadFailed(str(exc)) from exc
                self._loop = loop
        assert self._pool is not None
        return self._pool

    @asynccontextmanager
    async def snapshot(self, *, consistent: bool = True) -> AsyncIterator[Snapshot]:
        pool = await self._ready_pool()
        try:
            connection = await pool.acquire()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DirectReadFailed(str(exc)) from exc
        try:
            if not consistent:  # two round trips fewer
                yield _PostgresSnapshot(connection)
                return
            # REPEATABLE READ as the read transactions of the full path (db/engine.py).
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                yield _PostgresSnapshot(connection)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DirectReadFailed(str(exc)) from exc
        finally:
            await pool.release(connection)

    def dispose(self) -> None:
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            try:
                await_only(pool.close())
            except Exception:  # another loop's pool (a test's): drop it, do not fail dispose
                pool.terminate()


def direct_reads(settings: Settings, engine: AsyncEngine) -> DirectReads | None:
    """The configured database's direct reads, closed whenever ``engine`` is disposed;
    None where there are none (an in-memory SQLite database is one connection's own)."""
    url = make_url(settings.database_url)
    reads: DirectReads
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        reads = SqliteReads(url.database)
    else:
        reads = PostgresReads(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            max_size=settings.db_pool_size,
            command_timeout=settings.db_statement_timeout_seconds or None,
        )
    event.listen(engine.sync_engine, "engine_disposed", lambda *_args: reads.dispose())
    return reads
