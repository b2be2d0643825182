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
import sqlite3
import threading
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Protocol, cast

import asyncpg
from sqlalchemy import Select, Uuid, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from chatkeep.db.engine import sqlite_file
from chatkeep.settings import Settings

Processor = Callable[[Any], Any] | None
DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite.dialect(),
    "postgresql": pg_asyncpg.dialect(),  # type: ignore[no-untyped-call]
}


class DirectReadFailed(Exception):
    """The driver could not answer at once, and nothing was committed: the caller takes
    the full path instead."""


class CommitFailed(Exception):
    """A write's COMMIT failed on PostgreSQL: whether it was committed is unknown, so the
    request must not be tried again on the full path; ``__cause__`` says why."""


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

    def writing(self) -> Any:
        """``async with reads.writing() as write:`` one write transaction, committed when
        the block ends without an exception; ``DirectReadFailed`` if it could not begin (on
        SQLite: another connection holds the write lock) or failed uncommitted."""

    def dispose(self) -> None:
        """Close every connection (called inside ``AsyncEngine.dispose``'s greenlet)."""


class _SqliteSnapshot:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    async def fetch(self, stmt: Prepared, params: Mapping[str, Any]) -> list[Any]:
        compiled = stmt.compiled("sqlite")
        try:
            raw = self.connection.execute(compiled.sql, compiled.args(params)).fetchall()
            if not compiled.results:
                return []
        except sqlite3.Error as exc:
            raise DirectReadFailed(str(exc)) from exc
        return compiled.rows(raw)


# Neither ever waits for a lock (the full path does the waiting); the writer's are
# db/engine.py's otherwise, so its commits are as durable.
_READER_PRAGMAS = ("busy_timeout=0", "query_only=ON")
_WRITER_PRAGMAS = ("busy_timeout=0", "synchronous=FULL", "foreign_keys=ON")


class SqliteReads:
    def __init__(self, path: str, writer: AsyncEngine) -> None:
        self.path = path
        self.writer = writer
        # One connection per thread (event loop): a connection is never used by two
        # threads at once, only closed from another by dispose().
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []

    def _connection(self, role: str, pragmas: tuple[str, ...]) -> sqlite3.Connection:
        """This thread's connection for ``role`` ("reader" or "writer"), opened on first use."""
        connection: sqlite3.Connection | None = getattr(self._local, role, None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            for pragma in pragmas:
                connection.execute(f"PRAGMA {pragma}")
            setattr(self._local, role, connection)
            self._opened.append(connection)
        return connection

    @asynccontextmanager
    async def snapshot(self, *, consistent: bool = True) -> AsyncIterator[Snapshot]:
        # Always one BEGIN: on SQLite a snapshot costs no more than separate statements.
        try:
            connection = self._connection("reader", _READER_PRAGMAS)
            connection.execute("BEGIN")
        except sqlite3.Error as exc:
            raise DirectReadFailed(str(exc)) from exc
        try:
            yield _SqliteSnapshot(connection)
        finally:
            if connection.in_transaction:
                connection.execute("COMMIT")

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Snapshot]:
        """In the process's one line of writes (holding the write engine's connection),
        then synchronously on the loop's thread, the commit's fsync included."""
        async with self.writer.connect(), self._transaction() as write:
            yield write

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Snapshot]:
        try:
            connection = self._connection("writer", _WRITER_PRAGMAS)
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:  # another process writes: the full path waits for it
            raise DirectReadFailed(str(exc)) from exc
        try:
            yield _SqliteSnapshot(connection)
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):  # a failed COMMIT committed nothing
                raise DirectReadFailed(str(exc)) from exc
            raise

    def dispose(self) -> None:
        while self._opened:
            self._opened.pop().close()
        self._local = threading.local()


# What the driver raises for a database that is down, restarting or cut off: the server's
# errors, the socket's, and the client's own when a connection dies mid-operation
# ("another operation is in progress" after a terminated backend: InternalClientError).
_PG_ERRORS = (asyncpg.PostgresError, OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)


class _PostgresSnapshot:
    def __init__(self, connection: asyncpg.Connection[Any]) -> None:
        self.connection = connection

    async def fetch(self, stmt: Prepared, params: Mapping[str, Any]) -> list[Any]:
        compiled = stmt.compiled("postgresql")
        try:
            raw = await self.connection.fetch(compiled.sql, *compiled.args(params))
        except _PG_ERRORS as exc:
            raise DirectReadFailed(str(exc)) from exc
        return compiled.rows(raw)


async def _json_codecs(connection: asyncpg.Connection[Any]) -> None:
    # Exactly SQLAlchemy's asyncpg codecs: its JSON bind processor serialises, the codec
    # carries the text; jsonb's binary form leads with a version byte.
    codecs = {
        "json": (str.encode, lambda raw: json.loads(raw.decode())),
        "jsonb": (lambda text: b"\x01" + text.encode(), lambda raw: json.loads(raw[1:].decode())),
    }
    for name, (encoder, decoder) in codecs.items():
        await connection.set_type_codec(
            name, encoder=encoder, decoder=decoder, schema="pg_catalog", format="binary"
        )


async def _release(pool: asyncpg.Pool[Any], connection: asyncpg.Connection[Any]) -> None:
    """Back to the pool; a connection the database dropped fails its reset there and is
    discarded by the pool, which must not fail a request whose work is done (a commit
    included: raised here, an acknowledged append would answer 500, or be retried)."""
    with suppress(*_PG_ERRORS):
        await pool.release(connection)


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
                except _PG_ERRORS as exc:
                    raise DirectReadFailed(str(exc)) from exc
                self._loop = loop
        assert self._pool is not None
        return self._pool

    @asynccontextmanager
    async def snapshot(self, *, consistent: bool = True) -> AsyncIterator[Snapshot]:
        pool = await self._ready_pool()
        try:
            connection = await pool.acquire()
        except _PG_ERRORS as exc:
            raise DirectReadFailed(str(exc)) from exc
        try:
            if not consistent:  # two round trips fewer
                yield _PostgresSnapshot(connection)
                return
            # REPEATABLE READ as the read transactions of the full path (db/engine.py).
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                yield _PostgresSnapshot(connection)
        except _PG_ERRORS as exc:
            raise DirectReadFailed(str(exc)) from exc
        finally:
            await _release(pool, connection)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Snapshot]:
        pool = await self._ready_pool()
        try:
            connection = await pool.acquire()
        except _PG_ERRORS as exc:
            raise DirectReadFailed(str(exc)) from exc
        try:
            transaction = connection.transaction()
            try:
                await transaction.start()
                yield _PostgresSnapshot(connection)
            except BaseException as exc:
                with suppress(*_PG_ERRORS):
                    await transaction.rollback()
                if isinstance(exc, _PG_ERRORS):
                    raise DirectReadFailed(str(exc)) from exc
                raise
            try:
                await transaction.commit()
            except _PG_ERRORS as exc:
                raise CommitFailed(str(exc)) from exc
        finally:
            await _release(pool, connection)

    def dispose(self) -> None:
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            try:
                await_only(pool.close())
            except Exception:  # another loop's pool (a test's): drop it, do not fail dispose
                pool.terminate()


def direct_reads(
    settings: Settings, engine: AsyncEngine, writer: AsyncEngine
) -> DirectReads | None:
    """The configured database's direct reads and writes, closed whenever ``engine`` is
    disposed; None where there are none (an in-memory SQLite database is one connection's
    own). ``writer``: the full path's write engine, whose one connection SQLite's direct
    writes hold while they run, so the process's writes queue in one line."""
    url = make_url(settings.database_url)
    reads: DirectReads
    if url.get_backend_name() == "sqlite":
        path = sqlite_file(url)
        if path is None:
            return None
        reads = SqliteReads(path, writer)
    else:
        reads = PostgresReads(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            max_size=settings.db_pool_size,
            command_timeout=settings.db_statement_timeout_seconds or None,
        )
    event.listen(engine.sync_engine, "engine_disposed", lambda *_args: reads.dispose())
    return reads
