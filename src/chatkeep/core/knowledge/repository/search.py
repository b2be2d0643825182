"""The full-text index (migration 0007): writes and ranked matches, per database.

Both receive text already cut into words (``knowledge/words.py``). Matches are ORed —
a question's words rarely all appear in one passage — and ranked by the database:
``bm25`` on SQLite (lower is better, so negated), ``ts_rank`` on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True, slots=True)
class Match:
    chunk_id: int
    score: float


async def index_chunks(db: AsyncSession, tenant_id: int, rows: Sequence[tuple[int, str]]) -> None:
    """``rows``: (chunk id, its words separated by spaces)."""
    if not rows:
        return
    if _postgres(db):
        stmt = text(
            "INSERT INTO chunk_search (chunk_id, tenant_id, words) "
            "VALUES (:id, :tenant, to_tsvector('english', :words))"
        )
    else:
        stmt = text("INSERT INTO chunk_search (rowid, words) VALUES (:id, :words)")
    await db.execute(stmt, [{"id": i, "tenant": tenant_id, "words": w} for i, w in rows])


async def match(
    db: AsyncSession,
    tenant_id: int,
    words: Sequence[str],
    *,
    domain_ids: Sequence[Any] | None,
    document_numbers: Sequence[int] | None,
    limit: int,
) -> list[Match]:
    """The best-ranked ready chunks of the tenant within the scope that contain any word."""
    scope, params = _scope(domain_ids, document_numbers)
    params |= {"tenant": tenant_id, "limit": limit}
    if _postgres(db):
        sql = (
            "SELECT c.id, ts_rank(s.words, q) AS score "
            "FROM chunk_search s, to_tsquery('english', :query) q, chunks c, documents d "
            "WHERE s.words @@ q AND s.tenant_id = :tenant AND c.id = s.chunk_id "
            f"AND d.number = c.document_number AND d.tenant_id = :tenant {scope} "
            "ORDER BY score DESC, c.id LIMIT :limit"
        )
        params["query"] = " | ".join(words)
    else:
        sql = (
            "SELECT c.id, -bm25(chunk_search) AS score FROM chunk_search "
            "JOIN chunks c ON c.id = chunk_search.rowid "
            "JOIN documents d ON d.number = c.document_number "
            f"WHERE chunk_search MATCH :query AND d.tenant_id = :tenant {scope} "
            "ORDER BY bm25(chunk_search), c.id LIMIT :limit"
        )
        params["query"] = " OR ".join(f'"{w}"' for w in words)
    stmt = text(sql)
    if "domains" in params:  # typed, so SQLite gets its stored form of a UUID
        stmt = stmt.bindparams(bindparam("domains", expanding=True, type_=Uuid()))
    if "documents" in params:
        stmt = stmt.bindparams(bindparam("documents", expanding=True, type_=BigInteger()))
    rows = await db.execute(stmt, params)
    return [Match(row[0], float(row[1])) for row in rows]


def _scope(
    domain_ids: Sequence[Any] | None, document_numbers: Sequence[int] | None
) -> tuple[str, dict[str, Any]]:
    # Only ready documents: a document being re-ingested or failed is never half-seen.
    scope, params = "AND d.status = 'ready'", {}
    if domain_ids is not None:
        scope += " AND d.domain_id IN :domains"
        params["domains"] = list(domain_ids)
    if document_numbers is not None:
        scope += " AND d.number IN :documents"
        params["documents"] = list(document_numbers)
    return scope, params


def _postgres(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"
