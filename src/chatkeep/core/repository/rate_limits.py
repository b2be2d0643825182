"""Fixed-window request counters, one row per credential (table ``rate_limits``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.schema import CreateTable

from chatkeep.core.models import RateLimitCounter

_TABLE: sa.Table = RateLimitCounter.__table__  # type: ignore[assignment]


async def count_hit(conn: AsyncConnection, credential_id: str, window_start: int) -> int:
    """Count one request in ``window_start``'s window and return the window's count so far.

    One atomic upsert: concurrent requests (any process) serialise on the row, so the
    counts they see are exactly 1, 2, 3... A newer window resets the row; a stale clock's
    older window never moves it back.
    """
    insert: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(_TABLE)
    stmt = insert.values(credential_id=credential_id, window_start=window_start, hits=1)
    newer = stmt.excluded.window_start > _TABLE.c.window_start
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.credential_id],
        set_={
            "hits": sa.case((newer, 1), else_=_TABLE.c.hits + 1),
            "window_start": sa.case(
                (newer, stmt.excluded.window_start), else_=_TABLE.c.window_start
            ),
        },
    ).returning(_TABLE.c.hits)
    return int((await conn.execute(stmt)).scalar_one())


async def prune(conn: AsyncConnection, before: int) -> int:
    """Drop counters of windows that started before ``before`` (idle credentials)."""
    result = await conn.execute(sa.delete(_TABLE).where(_TABLE.c.window_start < before))
    return int(result.rowcount)


async def create_table(conn: AsyncConnection) -> None:
    """Create the table where no migration runs (SQLite's side file); safe to race."""
    await conn.execute(CreateTable(_TABLE, if_not_exists=True))
