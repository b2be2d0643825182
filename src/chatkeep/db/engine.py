"""Engine factory: one async engine, configured for SQLite or PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from chatkeep.settings import Settings

# A write transaction on SQLite takes the write lock up front (BEGIN IMMEDIATE) so two
# requests never deadlock upgrading a read lock; reads keep a plain deferred BEGIN.
SQLITE_WRITE = "chatkeep_sqlite_write"

# PostgreSQL: give up (and answer 503) rather than wait. Connecting to a healthy server
# takes milliseconds; asyncpg's default of 60 s would hold a request that long when the
# host is unreachable. POOL_TIMEOUT bounds the wait for a free pooled connection.
CONNECT_TIMEOUT_SECONDS = 5
POOL_TIMEOUT_SECONDS = 10
SQLITE_WRITE_WAIT_SECONDS = 30  # as long as the busy timeout a write waits for the lock
# A pooled PostgreSQL connection idle this long is pinged before use (see ping_when_idle).
PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "chatkeep_idle_since"


class DatabaseURLError(ValueError):
    """The configured database URL names no backend chatkeep supports."""


def async_url(raw: str) -> URL:
    """Map a user-facing URL (``sqlite:///...``, ``postgresql://...``) to its async driver."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseURLError(f"cannot parse database URL {raw!r}") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseURLError(
        f"unsupported database {backend!r}: use sqlite:///path or postgresql://user@host/db"
    )


def create_engine(settings: Settings) -> AsyncEngine:
    url = async_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=POOL_TIMEOUT_SECONDS,
        connect_args={
            "timeout": CONNECT_TIMEOUT_SECONDS,
            "command_timeout": settings.db_statement_timeout_seconds or None,
        },
    )
    ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle for ``idle_seconds``.

    ``pool_pre_ping`` costs every request a round trip; a connection handed back a moment
    ago is almost surely alive, and if it is not (the database restarted within that
    moment) the request gets a clean 503 and the pool discards all its connections. One
    that sat idle longer (the first request after a quiet spell or a restart) is pinged,
    and replaced if dead, so that request succeeds.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            dbapi_connection.ping()
        except Exception as exc:  # any failure: this socket is not worth a request
            # The pool then discards this connection and checks out another (a new one).
            raise DisconnectionError("pooled connection failed its ping") from exc


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take over transaction control from the driver (SQLAlchemy's documented recipe),
        # so BEGIN is emitted by the "begin" hook below with the right locking mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before it is acknowledged, even across a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(SQLITE_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def writer_engine(engine: AsyncEngine, settings: Settings) -> AsyncEngine:
    """The engine for write transactions.

    PostgreSQL (and an in-memory SQLite database): ``engine``. SQLite: an engine of its
    own with one connection, so a process's write transactions queue for that connection
    in arrival order. Sharing the read pool, two of them met at SQLite's write lock
    instead, and the loser's busy handler slept (1, 2, 5, 10 ms...) and polled while the
    holder's statements each waited for the event loop: under concurrent appends the
    server sat idle half the time (docs/decisions.md, "The fast lane"). Other processes
    (``--workers N``, the CLI) still meet at the lock and its busy timeout. Disposed with
    ``engine``.
    """
    url = async_url(settings.database_url)
    if engine.dialect.name != "sqlite" or sqlite_file(url) is None:
        return engine.execution_options(**{SQLITE_WRITE: True})  # (one memory database)
    writer = create_async_engine(
        url, connect_args={"timeout": 30}, pool_size=1, max_overflow=0,
        pool_timeout=SQLITE_WRITE_WAIT_SECONDS,
    )  # fmt: skip
    _configure_sqlite(writer)

    @event.listens_for(engine.sync_engine, "engine_disposed")
    def _dispose(*_args: Any) -> None:
        writer.sync_engine.dispose()

    return writer.execution_options(**{SQLITE_WRITE: True})


def sqlite_file(url: URL) -> str | None:
    """A SQLite URL's file; None for an in-memory database (one connection's own)."""
    return None if url.database in (None, "", ":memory:") else url.database


def snapshot_reads(engine: AsyncEngine) -> AsyncEngine:
    """The engine for read transactions: each sees one snapshot across its statements.

    SQLite's read transactions (BEGIN in WAL mode) are snapshots already. PostgreSQL's
    READ COMMITTED takes a new one per statement, so a total and its page, or the pages
    of a streamed list, could disagree; REPEATABLE READ costs a read-only transaction
    nothing (it cannot fail to serialize) and is set in its BEGIN, not by a round trip.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine
