"""Chunk rows: written once per ingestion, read by retrieval."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.knowledge.models import Chunk, Document


async def insert_chunks(db: AsyncSession, chunks: Sequence[Chunk]) -> list[int]:
    """Insert and return the new ids, in order."""
    db.add_all(chunks)
    await db.flush()
    return [c.id for c in chunks]


async def with_documents(
    db: AsyncSession, tenant_id: int, chunk_ids: Sequence[int]
) -> dict[int, tuple[Chunk, Document]]:
    rows = await db.execute(
        select(Chunk, Document)
        .join(Document, Document.number == Chunk.document_number)
        .where(Document.tenant_id == tenant_id, Chunk.id.in_(chunk_ids))
    )
    return {chunk.id: (chunk, document) for chunk, document in rows}


async def chunks_of(db: AsyncSession, tenant_id: int, document_number: int) -> list[Chunk]:
    """A document's chunks in reading order (its ``(document_number, seq)`` unique index)."""
    found = await db.scalars(
        select(Chunk)
        .where(Chunk.tenant_id == tenant_id, Chunk.document_number == document_number)
        .order_by(Chunk.seq)
    )
    return list(found.all())
