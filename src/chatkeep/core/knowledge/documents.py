"""Document use cases: add (deduplicated by content hash), list, read, delete.

Adding stores the bytes and queues an ingestion job in the caller's transaction, so the
document is visible (``queued``) the moment the upload is acknowledged.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.exc import IntegrityError

from chatkeep.core import limits
from chatkeep.core.auth import require
from chatkeep.core.clock import utcnow
from chatkeep.core.cursor import fingerprint
from chatkeep.core.document_links import DocumentLink
from chatkeep.core.errors import InvalidArgument, NotFound, TooLarge, UnsupportedFormat
from chatkeep.core.knowledge import parsing
from chatkeep.core.knowledge.models import DOCUMENT_STATUSES, Document, IngestJob
from chatkeep.core.knowledge.repository import documents as rows
from chatkeep.core.knowledge.types import (
    AddedDocument,
    DocumentContentRecord,
    DocumentListQuery,
    DocumentRecord,
    NewDocument,
)
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.types import Page, Principal, Scope
from chatkeep.core.uow import UnitOfWork


def check_upload(new: NewDocument, max_bytes: int) -> str:
    """Checks that need no database (run before any transaction); returns the format."""
    if len(new.data) > max_bytes:
        raise TooLarge(f"The document is larger than the limit of {max_bytes} bytes.")
    if not new.data:
        raise InvalidArgument("file", "the file is empty")
    limits.check_name(new.name, "name")
    content_type = parsing.sniff(new.data, new.name, new.declared_type)
    if content_type is None:
        raise UnsupportedFormat(
            "Unsupported document format: upload PDF, DOCX, HTML, Markdown, CSV or plain text."
        )
    return content_type


async def check_can_add(uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID) -> None:
    """Before fetching a URL: refuse early what add_document would refuse anyway."""
    require(principal, Scope.DOCUMENTS_WRITE, "add documents")
    if await domain_rows.get_domain(uow.db, principal.tenant_id, domain_id) is None:
        raise NotFound("domain")


async def add_document(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID, new: NewDocument, max_bytes: int
) -> AddedDocument:
    require(principal, Scope.DOCUMENTS_WRITE, "add documents")
    content_type = check_upload(new, max_bytes)
    if await domain_rows.get_domain(uow.db, principal.tenant_id, domain_id) is None:
        raise NotFound("domain")
    digest = hashlib.sha256(new.data).hexdigest()
    existing = await rows.by_hash(uow.db, principal.tenant_id, domain_id, digest)
    if existing is not None:
        return AddedDocument(to_record(existing), created=False)
    now = utcnow()
    document = Document(
        id=uuid.uuid4(), tenant_id=principal.tenant_id, domain_id=domain_id, name=new.name,
        content_type=content_type, size_bytes=len(new.data), sha256=digest,
        source_url=new.source_url, status="queued", chunk_count=0,
        created_at=now, updated_at=now,
    )  # fmt: skip
    job = IngestJob(tenant_id=principal.tenant_id, attempts=0, available_at=now, created_at=now)
    try:
        async with uow.db.begin_nested():
            await rows.insert_document(uow.db, document, new.data, job)
    except IntegrityError:  # the same bytes, added concurrently (PostgreSQL): return that one
        existing = await rows.by_hash(uow.db, principal.tenant_id, domain_id, digest)
        if existing is None:
            raise
        return AddedDocument(to_record(existing), created=False)
    return AddedDocument(to_record(document), created=True)


async def get_document(
    uow: UnitOfWork, principal: Principal, document_id: uuid.UUID
) -> DocumentRecord:
    require(principal, Scope.DOCUMENTS_READ, "read documents")
    return to_record(await _load(uow, principal, document_id))


async def list_documents(
    uow: UnitOfWork, principal: Principal, query: DocumentListQuery
) -> Page[DocumentRecord]:
    require(principal, Scope.DOCUMENTS_READ, "list documents")
    limits.check_limit(query.limit)
    if query.status is not None and query.status not in DOCUMENT_STATUSES:
        raise InvalidArgument("status", f"must be one of {', '.join(DOCUMENT_STATUSES)}")
    if await domain_rows.get_domain(uow.db, principal.tenant_id, query.domain_id) is None:
        raise NotFound("domain")
    fp = fingerprint("documents", principal.tenant_id, query.domain_id, query.status)
    after = uow.config.cursors.decode(query.cursor, fp) if query.cursor else None
    found = await rows.list_documents(
        uow.db, principal.tenant_id, query.domain_id, status=query.status,
        after=int(str(after[0])) if after else None, limit=query.limit + 1,
    )  # fmt: skip
    page = found[: query.limit]
    more = len(found) > query.limit
    next_cursor = uow.config.cursors.encode(fp, [page[-1].number]) if more else None
    return Page([to_record(d) for d in page], next_cursor)


async def get_content(
    uow: UnitOfWork, principal: Principal, document_id: uuid.UUID
) -> DocumentContentRecord:
    require(principal, Scope.DOCUMENTS_READ, "read documents")
    document = await _load(uow, principal, document_id)
    data = await rows.content(uow.db, principal.tenant_id, document.number)
    if data is None:  # pragma: no cover - the row and its bytes are written together
        raise NotFound("document")
    return DocumentContentRecord(document.name, document.content_type, data)


async def get_linked_content(uow: UnitOfWork, link: DocumentLink) -> DocumentContentRecord:
    """The bytes a verified signed link opens: the link itself is the authority (it names
    the tenant), so no principal is needed; a deleted document is gone for its links too."""
    document = await rows.get_document(uow.db, link.tenant_id, link.document_id)
    data = None if document is None else await rows.content(uow.db, link.tenant_id, document.number)
    if document is None or data is None:
        raise NotFound("document")
    return DocumentContentRecord(document.name, document.content_type, data)


async def delete_document(uow: UnitOfWork, principal: Principal, document_id: uuid.UUID) -> None:
    """Gone from retrieval when this commits; its bytes, chunks and index entries too."""
    require(principal, Scope.DOCUMENTS_WRITE, "delete documents")
    document = await _load(uow, principal, document_id)
    await rows.delete_document(uow.db, principal.tenant_id, document.number)


async def _load(uow: UnitOfWork, principal: Principal, document_id: uuid.UUID) -> Document:
    document = await rows.get_document(uow.db, principal.tenant_id, document_id)
    if document is None:
        raise NotFound("document")
    return document


def to_record(d: Document) -> DocumentRecord:
    return DocumentRecord(
        id=d.id, number=d.number, domain_id=d.domain_id, name=d.name,
        content_type=d.content_type, size_bytes=d.size_bytes, sha256=d.sha256,
        source_url=d.source_url, status=d.status, error=d.error, pages=d.pages,
        chunks=d.chunk_count, text_chars=d.text_chars, parse_ms=d.parse_ms,
        created_at=d.created_at, updated_at=d.updated_at, started_at=d.started_at,
        finished_at=d.finished_at,
    )  # fmt: skip
