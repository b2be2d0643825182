"""The INSERT construct with ON CONFLICT support for the session's backend."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert_insert(db: AsyncSession, model: Any) -> Any:
    """``insert(model)`` that knows ``on_conflict_do_nothing`` on PostgreSQL and SQLite."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
