"""Throwaway PostgreSQL databases for tests (created per use, dropped afterwards).

Without a reachable server a test is skipped with the reason shown, unless
CHATKEEP_REQUIRE_POSTGRES=1 (CI), which turns that into a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "CHATKEEP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_PG = os.environ.get("CHATKEEP_REQUIRE_POSTGRES") == "1"


def sync_admin_url() -> str:
    return PG_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)


@contextmanager
def fresh_postgres_database(prefix: str = "chatkeep_test") -> Iterator[str]:
    """An empty throwaway PostgreSQL database (its URL yielded), dropped afterwards."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        admin = sa.create_engine(sync_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        message = f"PostgreSQL unreachable at {PG_ADMIN_URL}: {type(exc).__name__}: {exc}"
        if REQUIRE_PG:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
