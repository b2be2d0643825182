"""Which failures mean "the database cannot serve this right now" (503, not a 500 bug).

Two kinds, because the client should hear different things:

* **unreachable** (PostgreSQL down, restarting or refusing connections; no free pooled
  connection in time; an unopenable SQLite file): retry in a second.
* **storage refuses writes** (SQLite: disk full, read-only or failing with I/O errors;
  PostgreSQL: disk full): reads still work, writes will not until an operator acts.

Either way nothing was committed by the failed request; the transaction rolled back.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator

from asyncpg import exceptions as asyncpg_errors
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from chatkeep.api.problems import Problem, ProblemKind

log = logging.getLogger("chatkeep.errors")

# asyncpg's errors for a server that is down, restarting, full or missing the database.
_UNREACHABLE = (
    OSError,  # refused, reset, and asyncio/asyncpg timeouts (TimeoutError is an OSError)
    OperationalError,
    InterfaceError,
    PoolTimeout,  # every pooled connection stayed busy for pool_timeout seconds
    asyncpg_errors.PostgresConnectionError,
    asyncpg_errors.CannotConnectNowError,
    asyncpg_errors.AdminShutdownError,
    asyncpg_errors.CrashShutdownError,
    asyncpg_errors.TooManyConnectionsError,
    asyncpg_errors.InvalidCatalogNameError,
    asyncpg_errors.ConnectionDoesNotExistError,
)

# SQLite primary result codes (sqlite3.h) that mean the storage under the file refuses.
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13


def database_problem(exc: BaseException) -> Problem | None:
    """The 503 to answer when ``exc`` is a database outage; None when it is something else."""
    chain = list(_causes(exc))
    if not any(_unreachable(e) for e in chain):
        return None
    if any(_storage_refuses(e) for e in chain):
        log.error("database storage refuses writes: %s", _driver_error(exc))
        return Problem(
            ProblemKind.UNAVAILABLE,
            "The database cannot store changes right now (its disk is full, read-only or "
            "failing); reads still work. Retry later.",
            503,
            headers={"Retry-After": "30"},
        )
    log.warning("database unavailable: %s", _driver_error(exc))
    return Problem(
        ProblemKind.UNAVAILABLE,
        "The database is unavailable; retry shortly.",
        503,
        headers={"Retry-After": "1"},
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps (drivers wrap differently per phase)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return
        yield seen
        seen = getattr(seen, "orig", None) or seen.__cause__


def _unreachable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, _UNREACHABLE) or _storage_refuses(exc)


def _storage_refuses(exc: BaseException) -> bool:
    if isinstance(exc, asyncpg_errors.DiskFullError):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        return code in {_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL}
    return False


def _driver_error(exc: BaseException) -> str:
    """The driver's own message (e.g. "database or disk is full"), never SQL or parameters."""
    orig = getattr(exc, "orig", None) or exc
    return f"{type(orig).__name__}: {orig}".splitlines()[0][:300]
