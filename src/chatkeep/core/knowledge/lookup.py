"""Document look-ups the vendor dialects need beyond the native ones: a document shown
with its folder's name; an upload without a folder goes to the tenant's default domain.
(Documents named by their integer ``number`` are core.knowledge.document_numbers'.)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from chatkeep.core.auth import require
from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge.documents import to_record
from chatkeep.core.knowledge.repository import documents as rows
from chatkeep.core.knowledge.types import DocumentRecord
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.types import Principal, Scope
from chatkeep.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class DocumentInDomain:
    document: DocumentRecord
    domain_name: str


async def upload_domain(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID | None
) -> uuid.UUID:
    """Where a new document goes: the given domain (NotFound unless the tenant's), or the
    tenant's default domain. Checks the write scope first, so it also refuses early."""
    require(principal, Scope.DOCUMENTS_WRITE, "add documents")
    if domain_id is None:
        domain = await domain_rows.default_domain(uow.db, principal.tenant_id)
    else:
        domain = await domain_rows.get_domain(uow.db, principal.tenant_id, domain_id)
    if domain is None:
        raise NotFound("domain")
    return domain.id


async def document_in_domain(
    uow: UnitOfWork, principal: Principal, document_id: uuid.UUID
) -> DocumentInDomain:
    """A document and its domain's name (readable with the documents scope alone)."""
    require(principal, Scope.DOCUMENTS_READ, "read documents")
    document = await rows.get_document(uow.db, principal.tenant_id, document_id)
    if document is None:
        raise NotFound("document")
    domain = await domain_rows.get_domain(uow.db, principal.tenant_id, document.domain_id)
    return DocumentInDomain(to_record(document), domain.name if domain else "")
