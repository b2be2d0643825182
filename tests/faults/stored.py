"""Read back what the database holds, straight from the tables (not through the API)."""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from tests.faults.load import Append

_MESSAGES = """
SELECT s.uuid, m.idempotency_key, m.content
FROM messages m JOIN sessions s ON s.id = m.session_id
"""
_COUNTS = """
SELECT s.uuid, s.message_count, (SELECT count(*) FROM messages m WHERE m.session_id = s.id)
FROM sessions s
"""


@dataclass(frozen=True)
class Stored:
    rows: list[tuple[str, str | None, str]]  # (session uuid, idempotency key, content)
    counts: list[tuple[str, int, int]]  # (session uuid, message_count column, rows)

    def copies(self) -> Counter[tuple[str, str | None]]:
        return Counter((session, key) for session, key, _ in self.rows)

    def content_of(self) -> dict[tuple[str, str | None], str]:
        return {(session, key): content for session, key, content in self.rows}


def read_stored(database_url: str) -> Stored:
    if database_url.startswith("sqlite:///"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as conn:
            rows = conn.execute(_MESSAGES).fetchall()
            counts = conn.execute(_COUNTS).fetchall()
    else:
        engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with engine.connect() as conn:
                rows = [tuple(r) for r in conn.execute(sa.text(_MESSAGES))]
                counts = [tuple(r) for r in conn.execute(sa.text(_COUNTS))]
        finally:
            engine.dispose()
    return Stored(
        rows=[(str(uuid.UUID(str(s))), k, c) for s, k, c in rows],
        counts=[(str(uuid.UUID(str(s))), int(n), int(m)) for s, n, m in counts],
    )


def sqlite_integrity(path: str) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check``: ["ok"] when nothing is wrong."""
    with sqlite3.connect(path) as conn:
        problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        problems += [repr(row) for row in conn.execute("PRAGMA foreign_key_check")]
    return problems


def found_once(stored: Stored, appends: Sequence[Append]) -> int:
    copies = stored.copies()
    return sum(copies[(a.session_id, a.key)] == 1 for a in appends)


def assert_exactly_once(
    stored: Stored, acknowledged: Sequence[Append], attempted: Sequence[Append]
) -> None:
    """Every acknowledged append is stored exactly once with its content; no attempted
    append is stored twice; every session's message_count matches its rows."""
    copies = stored.copies()
    content = stored.content_of()
    missing = [a for a in acknowledged if copies[(a.session_id, a.key)] == 0]
    assert not missing, f"{len(missing)} acknowledged appends are lost, e.g. {missing[:3]}"
    for append in attempted:
        found = copies[(append.session_id, append.key)]
        assert found <= 1, f"{append.key} stored {found} times"
        if found:
            assert content[(append.session_id, append.key)] == append.content, append.key
    duplicated = [key for key, n in copies.items() if n > 1]
    assert not duplicated, f"stored more than once: {duplicated[:3]}"
    drift = [c for c in stored.counts if c[1] != c[2]]
    assert not drift, f"message_count differs from the stored rows: {drift}"
