"""Documents in domains, and retrieval over them (docs/native-api.md, "Documents").

An upload is read, and a URL fetched, with no transaction open: the request's own unit
of work only authenticates (and checks the domain), then the document is stored in a
short write transaction of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response, status
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from chatkeep.api.deps import DbUnit, app_state, reads_only
from chatkeep.api.document_links import LINK_ROUTE
from chatkeep.api.native.deps import CurrentPrincipal
from chatkeep.api.native.document_schemas import (
    DocumentFromUrl,
    DocumentOut,
    RetrievedChunkOut,
    RetrieveOut,
    RetrieveRequest,
)
from chatkeep.api.native.schemas import CursorParam, Page
from chatkeep.core.errors import InvalidArgument, UnsupportedFormat
from chatkeep.core.knowledge import documents, retrieval
from chatkeep.core.knowledge.types import DocumentContentRecord, DocumentListQuery, NewDocument
from chatkeep.core.limits import PAGE_MAX
from chatkeep.fetching import FetchPolicy, fetch
from chatkeep.runtime import unit_of_work

router = APIRouter(tags=["documents"])
StatusParam = Annotated[str | None, Query(pattern="^(queued|parsing|ready|failed)$")]


@dataclass(frozen=True, slots=True)
class Upload:
    document: NewDocument | None = None  # a multipart file
    url: str | None = None  # or a URL to fetch


async def read_upload(request: Request, uow: DbUnit, _principal: CurrentPrincipal) -> Upload:
    """The whole body, read after authentication with the request's transaction ended
    (a slow upload holds no snapshot, and no lock on SQLite)."""
    await uow.db.commit()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        async with request.form(max_files=1, max_fields=8) as form:
            file = form.get("file")
            if not isinstance(file, UploadFile):
                raise InvalidArgument("file", "send the document as the multipart field 'file'")
            data = await file.read()
            name = file.filename or "document"
            return Upload(NewDocument(name=name, data=data, declared_type=file.content_type))
    if kind == "application/json":
        try:
            body = DocumentFromUrl.model_validate(orjson.loads(await request.body()))
        except (orjson.JSONDecodeError, ValidationError):
            raise InvalidArgument("url", 'send {"url": "https://..."}') from None
        return Upload(url=body.url)
    raise UnsupportedFormat("Send multipart/form-data with a 'file' field, or JSON {\"url\"}.")


@router.post(
    "/domains/{domain_id}/documents",
    status_code=status.HTTP_201_CREATED,
    summary='Add a document (multipart `file`, or JSON `{"url"}` fetched by the server)',
    description="201 with the new document (status `queued`); 200 with the existing one "
    "when the same bytes are already in the domain.",
)
@reads_only()
async def add_document(
    domain_id: uuid.UUID,
    request: Request,
    response: Response,
    uow: DbUnit,
    principal: CurrentPrincipal,
    upload: Annotated[Upload, Depends(read_upload)],
) -> DocumentOut:
    runtime = app_state(request)
    settings = runtime.settings
    await documents.check_can_add(uow, principal, domain_id)
    await uow.db.commit()  # nothing is held open while fetching or storing below
    new = upload.document
    if new is None:
        policy = FetchPolicy(
            max_bytes=settings.documents_max_bytes, timeout_seconds=settings.fetch_timeout_seconds,
            max_redirects=settings.fetch_max_redirects, allow_private=settings.fetch_allow_private,
        )  # fmt: skip
        got = await fetch(upload.url or "", policy)
        new = NewDocument(got.name, got.data, got.content_type, source_url=upload.url)
    documents.check_upload(new, settings.documents_max_bytes)
    async with unit_of_work(runtime, write=True) as writes:
        added = await documents.add_document(
            writes, principal, domain_id, new, settings.documents_max_bytes
        )
    if not added.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/documents/{added.document.id}"
    return DocumentOut.of(added.document)


@router.get("/domains/{domain_id}/documents", summary="List a domain's documents, oldest first")
async def list_documents(
    domain_id: uuid.UUID,
    uow: DbUnit,
    principal: CurrentPrincipal,
    status: StatusParam = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    cursor: CursorParam = None,
) -> Page[DocumentOut]:
    query = DocumentListQuery(domain_id=domain_id, status=status, limit=limit, cursor=cursor)
    page = await documents.list_documents(uow, principal, query)
    return Page(
        data=[DocumentOut.of(d) for d in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get("/documents/{document_id}", summary="Read a document (status, pages, chunks, error)")
async def read_document(
    document_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal
) -> DocumentOut:
    return DocumentOut.of(await documents.get_document(uow, principal, document_id))


@router.get(
    "/documents/{document_id}/content",
    summary="The original bytes",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def read_content(
    document_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal
) -> Response:
    return content_response(await documents.get_content(uow, principal, document_id))


@router.get(
    LINK_ROUTE,
    summary="The original bytes, through a signed link (no credentials; the link expires)",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def read_linked_content(
    document_id: uuid.UUID,
    request: Request,
    uow: DbUnit,
    tenant: Annotated[str, Query(max_length=20)],
    expires: Annotated[str, Query(max_length=12)],
    signature: Annotated[str, Query(max_length=64)],
) -> Response:
    link = app_state(request).links.verify(tenant, document_id, expires, signature)
    return content_response(await documents.get_linked_content(uow, link))


def content_response(found: DocumentContentRecord) -> Response:
    return Response(
        found.data,
        media_type=found.content_type,
        headers={
            # A stored HTML file must never run as a page of this origin.
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.delete(
    "/documents/{document_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a document: gone from retrieval at once, its storage reclaimed",
)
async def delete_document(document_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal) -> None:
    await documents.delete_document(uow, principal, document_id)


@router.post("/retrieve", summary="The best passages for a query, within a scope")
@reads_only()
async def retrieve(body: RetrieveRequest, uow: DbUnit, principal: CurrentPrincipal) -> RetrieveOut:
    query = retrieval.RetrievalQuery(
        text=body.query, domain_id=body.domain_id, document_ids=body.document_ids, top_k=body.top_k
    )
    found = await retrieval.retrieve(uow, principal, query)
    return RetrieveOut(data=[RetrievedChunkOut.of(c) for c in found])
