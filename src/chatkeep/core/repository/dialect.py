"""Backend differences the repository needs: ON CONFLICT inserts, case-folded search."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, String, func, literal, select
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
    """A title contains ``needle``, case-insensitively, ``%`` and ``_`` literal.

    PostgreSQL: ``title_folded LIKE lower(pattern)``, where ``title_folded`` is the
    stored ``lower(title)``: the same matches as ``lower(title) LIKE lower(pattern)``
    without a lower() per title per request. SQLite: ``title LIKE pattern``; its LIKE
    already ignores ASCII case, the only case its ``lower()`` folds (same matches), and
    it cannot read a generated column from a covering index. A title search reads every
    title of the user, so this per-row cost is what the name filter costs
    (docs/decisions.md, "List paths at scale").
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it as a plain class list)
        ("title", InternalTraversal.dp_clauseelement),
        ("folded", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, title: ColumnElement[str], folded: ColumnElement[str], needle: str) -> None:
        escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
        self.title = title
        self.folded = folded
        self.pattern = literal(f"%{escaped}%", String())


@compiles(ContainsFolded)
def _contains_folded(element: ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    # lower() of the pattern as a one-row subquery (an InitPlan, run once): written
    # inline, a generic prepared plan evaluates it again for every title it compares.
    pattern = select(func.lower(element.pattern)).scalar_subquery()
    folded = element.folded.like(pattern, escape="/")
    return str(compiler.process(folded, **kw))


@compiles(ContainsFolded, "sqlite")
def _contains_folded_sqlite(element: ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.title.like(element.pattern, escape="/"), **kw))
