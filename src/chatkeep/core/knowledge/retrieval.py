"""Retrieval: a question → the best passages of the tenant's documents within a scope.

Full text only (the index of migration 0007); scoped by the principal's tenant always,
and by a domain's subtree or by explicit documents when asked. Runs in a read-only unit
of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from chatkeep.core.auth import require
from chatkeep.core.domains import subtree
from chatkeep.core.errors import InvalidArgument, NotFound
from chatkeep.core.knowledge import words
from chatkeep.core.knowledge.repository import chunks as chunk_rows
from chatkeep.core.knowledge.repository import documents as document_rows
from chatkeep.core.knowledge.repository import search
from chatkeep.core.knowledge.snippets import snippet
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.types import Principal, Scope
from chatkeep.core.uow import UnitOfWork

TOP_K_MAX = 50
QUERY_MAX_CHARS = 4000
DOCUMENT_IDS_MAX = 100


@dataclass(frozen=True, slots=True)
class RetrievalQuery:
    text: str
    domain_id: UUID | None = None  # this domain and its subtree
    document_ids: Sequence[UUID] | None = None  # or exactly these documents (UUIDs)
    top_k: int = 5


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    chunk_id: UUID
    document_id: UUID
    document_number: int  # the document's 64-bit integer id (Alibaba's documentIds)
    document_name: str
    text: str  # the chunk's full text
    snippet: str  # a short highlighted excerpt (marks: <mark>…</mark>, HTML-escaped)
    score: float  # higher is better
    page_start: int | None  # 1-based; None where the format has no pages
    page_end: int | None
    char_start: int  # offsets into the document's parsed text
    char_end: int
    heading_path: list[str]


async def retrieve(
    uow: UnitOfWork, principal: Principal, query: RetrievalQuery
) -> list[RetrievedChunk]:
    require(principal, Scope.DOCUMENTS_READ, "retrieve from documents")
    _check(query)
    domains = await _domain_scope(uow, principal, query.domain_id)
    numbers = await _document_scope(uow, principal, query.document_ids)
    asked = words.query_words(query.text)
    if not asked:
        return []
    matches = await search.match(
        uow.db, principal.tenant_id, asked,
        domain_ids=domains, document_numbers=numbers, limit=query.top_k,
    )  # fmt: skip
    found = await chunk_rows.with_documents(
        uow.db, principal.tenant_id, [m.chunk_id for m in matches]
    )
    results = []
    for m in matches:
        if m.chunk_id not in found:  # pragma: no cover - same snapshot, same tenant
            continue
        chunk, document = found[m.chunk_id]
        results.append(RetrievedChunk(
            chunk_id=chunk.uuid, document_id=document.id, document_number=document.number,
            document_name=document.name, text=chunk.text, snippet=snippet(chunk.text, asked),
            score=m.score, page_start=chunk.page_start, page_end=chunk.page_end,
            char_start=chunk.char_start, char_end=chunk.char_end,
            heading_path=list(chunk.heading_path),
        ))  # fmt: skip
    return results


def _check(query: RetrievalQuery) -> None:
    if not query.text.strip():
        raise InvalidArgument("query", "must not be blank")
    if len(query.text) > QUERY_MAX_CHARS:
        raise InvalidArgument("query", f"must be at most {QUERY_MAX_CHARS} characters")
    if not 1 <= query.top_k <= TOP_K_MAX:
        raise InvalidArgument("top_k", f"must be between 1 and {TOP_K_MAX}")
    if query.document_ids is not None and not 1 <= len(query.document_ids) <= DOCUMENT_IDS_MAX:
        raise InvalidArgument("document_ids", f"give between 1 and {DOCUMENT_IDS_MAX} ids")


async def _domain_scope(
    uow: UnitOfWork, principal: Principal, domain_id: UUID | None
) -> list[UUID] | None:
    if domain_id is None:
        return None
    tree = await domain_rows.all_domains(uow.db, principal.tenant_id)
    if not any(d.id == domain_id for d in tree):
        raise NotFound("domain")
    return subtree(tree, domain_id)


async def _document_scope(
    uow: UnitOfWork, principal: Principal, document_ids: Sequence[UUID] | None
) -> list[int] | None:
    if document_ids is None:
        return None
    wanted = list(dict.fromkeys(document_ids))
    numbers = await document_rows.numbers_of(uow.db, principal.tenant_id, wanted)
    if len(numbers) != len(wanted):
        raise NotFound("document")  # another tenant's ids land here too
    return [numbers[i] for i in wanted]


__all__ = ["RetrievalQuery", "RetrievedChunk", "retrieve"]
