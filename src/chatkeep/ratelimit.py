"""Per-credential rate limit: a fixed-window counter per credential, kept in a shared store.

Workers are stateless, so the count lives where every process (and every host) sees it:

* PostgreSQL: the ``rate_limits`` table (UNLOGGED), one autocommit upsert per request
  on a small pool of its own — never the request's own transaction (its row lock would
  serialise a credential's requests) nor the request's pool (a request holding one
  connection while waiting for a second can starve the pool).
* SQLite: a sibling file ``<database>-ratelimit`` with the same table. In the main file
  the count would need its write lock, which a write request already holds from its
  ``BEGIN IMMEDIATE`` (a self-deadlock), and every read would queue behind writers.
  The side file runs WAL with ``synchronous=NORMAL``: no fsync per request, and a crash
  loses at most the last counts, never consistency.

Only authenticated requests count (a forged credential costs its owner nothing).
Counters of idle credentials are pruned by each process at most once per window.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from chatkeep.core.errors import RateLimited
from chatkeep.core.repository import rate_limits
from chatkeep.db.engine import PING_AFTER_IDLE_SECONDS, async_url, ping_when_idle

SIDE_FILE_SUFFIX = "-ratelimit"

COUNTER_TIMEOUT_SECONDS = 2

log = logging.getLogger("chatkeep.ratelimit")


class RateLimiter:
    def __init__(
        self,
        database_url: str,
        *,
        limit: int,
        window_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        # Wall-clock seconds: windows are shared by every process, so they are aligned to
        # the epoch, not to a monotonic clock. Injectable so tests pick the window's edge.
        self.clock = clock
        self._url = async_url(database_url)
        self._engine: AsyncEngine | None = None
        self._ready = asyncio.Lock()
        self._next_prune = 0.0

    async def hit(self, credential_id: str) -> None:
        """Count a request; raise ``RateLimited`` once the window's budget is spent."""
        now = self.clock()
        window_start = int(now // self.window) * self.window
        try:
            engine = await self._engine_ready()
            async with engine.connect() as conn:
                hits = await rate_limits.count_hit(conn, credential_id, window_start)
                if now >= self._next_prune:
                    self._next_prune = now + self.window
                    await rate_limits.prune(conn, window_start - self.window)
        except (DBAPIError, OSError, PoolTimeout) as exc:
            # Fail open: a counter store that cannot count (disk full or read-only, server
            # down or hung) must not turn reads that would still work into 503s. The fault
            # suite (tests/faults) checks this.
            log.warning("rate-limit store unavailable, request admitted: %s", type(exc).__name__)
            return
        if hits > self.limit:
            raise RateLimited(max(1, math.ceil(window_start + self.window - now)))

    async def _engine_ready(self) -> AsyncEngine:
        if self._engine is not None:
            return self._engine
        async with self._ready:
            if self._engine is None:
                engine = _counter_engine(self._url)
                if engine.dialect.name == "sqlite":
                    async with engine.connect() as conn:
                        await rate_limits.create_table(conn)
                self._engine = engine
        return self._engine

    def dispose_with(self, engine: AsyncEngine) -> None:
        """Close this limiter's pool whenever the app's engine is disposed.

        ``engine_disposed`` fires inside ``AsyncEngine.dispose``'s greenlet, where a
        synchronous dispose of another async engine may await its connections.
        """

        def _dispose(*_args: Any) -> None:
            if self._engine is not None:
                self._engine.sync_engine.dispose()
                self._engine = None

        event.listen(engine.sync_engine, "engine_disposed", _dispose)


def _counter_engine(url: URL) -> AsyncEngine:
    if url.get_backend_name() != "sqlite":
        counters = create_async_engine(
            url, isolation_level="AUTOCOMMIT", pool_size=2, max_overflow=8,
            # An upsert takes milliseconds: a store silent for longer is down, and the
            # request goes on uncounted (see hit()) rather than waiting on it.
            pool_timeout=COUNTER_TIMEOUT_SECONDS,
            connect_args={"timeout": COUNTER_TIMEOUT_SECONDS,
                          "command_timeout": COUNTER_TIMEOUT_SECONDS},
        )  # fmt: skip
        # Not a ping per checkout (a round trip on every request): a dead connection
        # fails its upsert, which admits the request (fail open) and resets the pool.
        ping_when_idle(counters, PING_AFTER_IDLE_SECONDS)
        return counters
    database = url.database
    if database and database != ":memory:":
        url = url.set(database=database + SIDE_FILE_SUFFIX)
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # counters need no fsync per request
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine
