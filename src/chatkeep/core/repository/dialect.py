"""Backend differences the repository needs: ON CONFLICT inserts, case-folded search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, func, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal


def upsert_insert(db: AsyncSession, model: Any) -> Any:
    """``insert(model)`` that knows ``on_conflict_do_nothing`` on PostgreSQL and SQLite."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


class ContainsFolded(ColumnElement[bool]):
    """``column`` contains ``needle``, case-insensitively, ``%`` and ``_`` literal.

    PostgreSQL: ``lower(column) LIKE lower(pattern)``. SQLite: a plain ``LIKE``, which
    already ignores ASCII case, the only case SQLite's ``lower()`` folds: the same
    matches as lowering both sides, for half the per-row cost on a title search that
    must read every title of the user (see docs/decisions.md, "List paths at scale").
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it as a plain class list)
        ("column", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: ColumnElement[str], needle: str) -> None:
        escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
        self.column = column
        self.pattern = literal(f"%{escaped}%", String())


@compiles(ContainsFolded)
def _contains_folded(element: ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    folded = func.lower(element.column).like(func.lower(element.pattern), escape="/")
    return str(compiler.process(folded, **kw))


@compiles(ContainsFolded, "sqlite")
def _contains_folded_sqlite(element: ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.column.like(element.pattern, escape="/"), **kw))
