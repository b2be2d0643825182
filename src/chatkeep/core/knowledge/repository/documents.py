"""Document rows and their original bytes."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.knowledge.models import Document, DocumentContent, IngestJob


async def insert_document(
    db: AsyncSession, document: Document, data: bytes, job: IngestJob
) -> None:
    """The document, its bytes and its ingestion job, in the caller's transaction."""
    db.add(document)
    await db.flush()
    db.add(
        DocumentContent(document_number=document.number, tenant_id=document.tenant_id, data=data)
    )
    job.document_number = document.number
    db.add(job)
    await db.flush()


async def by_hash(
    db: AsyncSession, tenant_id: int, domain_id: uuid.UUID, sha256: str
) -> Document | None:
    return await db.scalar(
        select(Document).where(
            Document.tenant_id == tenant_id,
            Document.domain_id == domain_id,
            Document.sha256 == sha256,
        )
    )


async def get_document(db: AsyncSession, tenant_id: int, document_id: uuid.UUID) -> Document | None:
    return await db.scalar(
        select(Document).where(Document.tenant_id == tenant_id, Document.id == document_id)
    )


async def by_number(db: AsyncSession, number: int) -> Document | None:
    return await db.get(Document, number)


async def list_documents(
    db: AsyncSession,
    tenant_id: int,
    domain_id: uuid.UUID,
    *,
    status: str | None,
    after: int | None,
    limit: int,
) -> list[Document]:
    """Oldest first by number (unique, so pages never repeat or skip)."""
    stmt = select(Document).where(Document.tenant_id == tenant_id, Document.domain_id == domain_id)
    if status is not None:
        stmt = stmt.where(Document.status == status)
    if after is not None:
        stmt = stmt.where(Document.number > after)
    return list((await db.scalars(stmt.order_by(Document.number).limit(limit))).all())


async def numbers_of(
    db: AsyncSession, tenant_id: int, document_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    rows = await db.execute(
        select(Document.id, Document.number).where(
            Document.tenant_id == tenant_id, Document.id.in_(document_ids)
        )
    )
    return {row.id: row.number for row in rows}


async def content(db: AsyncSession, tenant_id: int, number: int) -> bytes | None:
    return await db.scalar(
        select(DocumentContent.data).where(
            DocumentContent.tenant_id == tenant_id, DocumentContent.document_number == number
        )
    )


async def update_document(db: AsyncSession, number: int, values: dict[str, Any]) -> None:
    await db.execute(update(Document).where(Document.number == number).values(**values))


async def delete_document(db: AsyncSession, tenant_id: int, number: int) -> None:
    """The row goes, and by cascade its bytes, chunks, index entries and job."""
    await db.execute(
        delete(Document).where(Document.tenant_id == tenant_id, Document.number == number)
    )


async def ids_of_numbers(
    db: AsyncSession, tenant_id: int, numbers: list[int]
) -> dict[int, uuid.UUID]:
    """The UUIDs of the tenant's documents among ``numbers`` (others are simply absent)."""
    rows = await db.execute(
        select(Document.number, Document.id).where(
            Document.tenant_id == tenant_id, Document.number.in_(numbers)
        )
    )
    return {row.number: row.id for row in rows}
