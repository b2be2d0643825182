"""Alembic environment: runs migrations over the same async drivers the app uses."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from chatkeep.core.knowledge.models import include_in_schema_check
from chatkeep.core.models import Base
from chatkeep.db.engine import async_url

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
        compare_type=True,
        include_name=include_in_schema_check,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    url = async_url(config.get_main_option("sqlalchemy.url") or "")
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # a caller (tests) passed an open sync connection
        _run(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    raise SystemExit("offline SQL generation is not supported; run `chatkeep migrate`")
run_migrations_online()
