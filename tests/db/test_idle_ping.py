"""PostgreSQL pooled connections: pinged before use only after sitting idle."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from chatkeep.db.engine import async_url, ping_when_idle

pytestmark = pytest.mark.anyio


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _kill(postgres_url: str, pid: int) -> None:
    killer = create_async_engine(async_url(postgres_url))
    try:
        async with killer.connect() as conn:
            await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


async def test_an_idle_connection_that_died_is_replaced_before_use(postgres_url: str) -> None:
    engine = create_async_engine(async_url(postgres_url), pool_size=1, max_overflow=0)
    ping_when_idle(engine, 0.0)  # every pooled connection counts as idle
    try:
        dead = await _backend_pid(engine)
        await _kill(postgres_url, dead)
        assert await _backend_pid(engine) != dead  # the ping found it dead: a new one
    finally:
        await engine.dispose()


async def test_a_connection_used_a_moment_ago_is_not_pinged(postgres_url: str) -> None:
    engine = create_async_engine(async_url(postgres_url), pool_size=1, max_overflow=0)
    ping_when_idle(engine, 3600.0)
    try:
        dead = await _backend_pid(engine)
        await _kill(postgres_url, dead)
        # not pinged: the dead socket is found by the request itself, which fails cleanly,
        # and the pool then replaces its connections
        with pytest.raises(sa.exc.DBAPIError):
            await _backend_pid(engine)
        assert await _backend_pid(engine) != dead
    finally:
        await engine.dispose()
