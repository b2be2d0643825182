"""Database failures become the right 503 (storage refusing writes vs unreachable)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from chatkeep.api.outages import database_problem


def failure(url: str, *statements: str) -> DBAPIError:
    engine = sa.create_engine(url)
    try:
        with pytest.raises(DBAPIError) as raised, engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
        return raised.value
    finally:
        engine.dispose()


def test_a_full_sqlite_database_is_a_storage_503(tmp_path: Path) -> None:
    # max_page_count caps the file the way a full disk does: SQLite answers SQLITE_FULL.
    exc = failure(
        f"sqlite:///{tmp_path / 'full.db'}",
        "CREATE TABLE t (x TEXT)",
        "PRAGMA max_page_count = 3",
        "INSERT INTO t VALUES (printf('%.100000c', 'x'))",
    )
    problem = database_problem(exc)
    assert problem is not None and problem.status == 503
    assert "disk is full, read-only or failing" in problem.message
    assert problem.headers == {"Retry-After": "30"}


def test_a_read_only_sqlite_file_is_a_storage_503(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    exc = failure(f"sqlite:///file:{path}?mode=ro&uri=true", "INSERT INTO t VALUES (1)")
    problem = database_problem(exc)
    assert problem is not None and "read-only" in problem.message


def test_an_unreachable_database_is_a_plain_503() -> None:
    exc = failure("sqlite:////nonexistent-dir/x.db", "SELECT 1")
    problem = database_problem(exc)
    assert problem is not None and problem.status == 503
    assert problem.headers == {"Retry-After": "1"}
    timed_out = database_problem(PoolTimeout("QueuePool limit reached"))
    assert timed_out is not None and timed_out.headers == {"Retry-After": "1"}


def test_a_bug_is_not_an_outage(tmp_path: Path) -> None:
    assert database_problem(ValueError("a bug")) is None
    exc = failure(f"sqlite:///{tmp_path / 'x.db'}", "CREATE TABLE t (x UNIQUE)",
                  "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)")  # fmt: skip
    assert database_problem(exc) is None  # an IntegrityError is ours to fix, not an outage
