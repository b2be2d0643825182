"""Backend differences the repository needs: ON CONFLICT inserts, case-folded search,
and which needles each database's title trigram index (migration 0010) can serve."""

from __future__ import annotations

import re
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


# The trigram index (migration 0010) serves a needle only if it yields a trigram. SQLite's
# FTS5 trigram tokenizer takes any three characters; pg_trgm only runs of alphanumerics,
# and which characters are alphanumeric depends on the database's locale, so only ASCII
# letters and digits are counted on: a needle without a trigram would make the GIN read
# every entry of the user (measured 380 ms for "de" against 22 ms for the scan).
SQLITE_TRIGRAM_CHARS = 3
_PG_TRIGRAM = re.compile(r"[A-Za-z0-9]{3}")
# SQLite's FTS rowid is ``user_pk << TITLE_KEY_BITS | id`` (migration 0010): one user's
# titles are one rowid range. Ids below 2**40, user keys below 2**23 (63 bits).
TITLE_KEY_BITS = 40
MAX_KEYED_USER = 1 << (63 - TITLE_KEY_BITS)


def pg_trigrams_serve(needle: str) -> bool:
    return _PG_TRIGRAM.search(needle) is not None


def sqlite_trigrams_serve(needle: str, user_pk: int) -> bool:
    return len(needle) >= SQLITE_TRIGRAM_CHARS and 0 <= user_pk < MAX_KEYED_USER


def like_pattern(needle: str) -> str:
    """``needle`` as a LIKE substring pattern, escaped with ``/``: every character literal."""
    escaped = needle.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def fts_phrase(needle: str) -> str:
    """``needle`` as one FTS5 phrase (``"`` doubled): its trigrams, consecutive."""
    return '"' + needle.replace('"', '""') + '"'


class ContainsFolded(ColumnElement[bool]):
    """A title contains ``needle``, case-insensitively, every character literal.

    PostgreSQL: ``title_folded LIKE lower(pattern)``, where ``title_folded`` is the
    stored ``lower(title)`` (folds all of Unicode): the same matches as ``lower(title)
    LIKE lower(pattern)`` without a lower() per title per request. Only a count asks for
    the trigram index (``indexed``, for a needle ``pg_trigrams_serve``): the GIN can then
    answer the condition, and the planner chooses. Every other statement writes the
    column ``title_folded || ''``, which the GIN cannot serve: a page walks the order's
    index and stops at the page, which measured faster than the index for all but the
    rarest needles, and a GIN lookup by user alone would read all their entries.
    SQLite: ``title LIKE pattern``; its LIKE ignores ASCII case, the only case its
    ``lower()`` folds (same matches), and it cannot read a generated column from a
    covering index. SQLite's trigram count is a statement of its own
    (``repository.sessions``): its planner never chooses the FTS table for a condition.
    See docs/decisions.md, "List paths at scale" and "Name search by trigrams".
    """

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy reads it as a plain class list)
        ("title", InternalTraversal.dp_clauseelement),
        ("folded", InternalTraversal.dp_clauseelement),
        ("pattern", InternalTraversal.dp_clauseelement),
        ("indexed", InternalTraversal.dp_boolean),  # part of the cache key: two SQL texts
    ]

    def __init__(
        self,
        title: ColumnElement[str],
        folded: ColumnElement[str],
        needle: str,
        *,
        indexed: bool = False,
    ) -> None:
        self.title = title
        self.folded = folded
        self.pattern = literal(like_pattern(needle), String())
        self.indexed = indexed and pg_trigrams_serve(needle)


@compiles(ContainsFolded)
def _contains_folded(element: ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    # lower() of the pattern as a one-row subquery (an InitPlan, run once): written
    # inline, a generic prepared plan evaluates it again for every title it compares.
    pattern = select(func.lower(element.pattern)).scalar_subquery()
    folded = element.folded if element.indexed else element.folded.concat("")
    return str(compiler.process(folded.like(pattern, escape="/"), **kw))


@compiles(ContainsFolded, "sqlite")
def _contains_folded_sqlite(element: ContainsFolded, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.title.like(element.pattern, escape="/"), **kw))
