"""Retrieve: the best chunks for a query, within folders and/or documents.

Several folders are searched one by one (each with its sub-folders) and merged by score:
the scores of one query on one database are comparable across scopes, as the index's
statistics are the same. ``documentIds`` and ``folderIds`` together narrow each other.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Request

from chatkeep.api.aidoc.deps import AidocPrincipal, RequestId, records_a_nonce
from chatkeep.api.aidoc.document_schemas import ChunkItem, RetrieveData, RetrieveRequest
from chatkeep.api.aidoc.errors import AidocError, invalid_parameter
from chatkeep.api.aidoc.route import AidocRoute
from chatkeep.api.aidoc.schemas import Envelope
from chatkeep.api.deps import DbUnit, reads_only
from chatkeep.api.document_links import document_url
from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge import document_numbers, retrieval
from chatkeep.core.knowledge.retrieval import RetrievalQuery, RetrievedChunk
from chatkeep.core.types import Principal
from chatkeep.core.uow import UnitOfWork

router = APIRouter(route_class=AidocRoute)


@router.post(
    "/api/v2/aidoc/knowledgebase/retrieve",
    name="Retrieve",
    summary="The best chunks for a query",
    description="topK: default 5, at most 50. preRetrieveTopK, useReranker and "
    "rerankerThreshold are accepted and ignored (there is no reranker).",
)
@reads_only(unless=records_a_nonce)
async def retrieve(
    body: RetrieveRequest, request: Request, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Envelope[RetrieveData]:
    folders = [_folder_id(raw) for raw in body.folder_ids or []]
    with document_not_found():
        documents = (
            await document_numbers.documents_numbered(uow, principal, body.document_ids)
            if body.document_ids
            else None
        )
        found = await best_chunks(uow, principal, body, folders, documents)
    results = [
        chunk_item(c, document_url(request, principal.tenant_id, c.document_id)) for c in found
    ]
    return Envelope(request_id=rid, data=RetrieveData(job_id=rid, results=results))


async def best_chunks(
    uow: UnitOfWork,
    principal: Principal,
    body: RetrieveRequest,
    folders: list[uuid.UUID],
    documents: list[uuid.UUID] | None,
) -> list[RetrievedChunk]:
    scopes: list[uuid.UUID | None] = list(dict.fromkeys(folders)) or [None]
    merged: dict[uuid.UUID, RetrievedChunk] = {}
    for folder in scopes:
        query = RetrievalQuery(body.query, folder, documents, body.top_k)
        for chunk in await retrieval.retrieve(uow, principal, query):
            merged.setdefault(chunk.chunk_id, chunk)  # nested folders find a chunk twice
    ranked = sorted(merged.values(), key=lambda c: (-c.score, str(c.chunk_id)))
    return ranked[: body.top_k]


def chunk_item(chunk: RetrievedChunk, url: str) -> ChunkItem:
    return ChunkItem(
        chunk_id=str(chunk.chunk_id), chunk_content=chunk.text, doc_id=str(chunk.document_number),
        doc_name=chunk.document_name, doc_url=url, doc_els_ids=[], score=chunk.score,
        rerank_score=None, weighted_score=chunk.score,
    )  # fmt: skip


def _folder_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise invalid_parameter("folderIds", f"{raw[:40]!r} is not a folder ID.") from None


@contextmanager
def document_not_found() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        if exc.resource != "document":
            raise
        raise AidocError(
            "InvalidDocumentId.NotFound", "A document in documentIds does not exist.", 404
        ) from None
