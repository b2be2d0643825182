"""Documents, their original bytes, their chunks and their ingestion jobs.

The full-text index is not here: it is a per-database structure (an FTS5 virtual table on
SQLite, a ``tsvector`` table with a GIN index on PostgreSQL) made by migration 0007 and
kept out of the model comparison by ``is_search_table`` (see docs/decisions.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from chatkeep.core.models import NAME_MAX, Base, is_title_trigrams
from chatkeep.db.types import BigIntPK

DOCUMENT_STATUSES = ("queued", "parsing", "ready", "failed")
CONTENT_TYPE_MAX = 127
SEARCH_TABLE = "chunk_search"


def is_search_table(name: str) -> bool:
    """The full-text index and (SQLite) its FTS5 shadow tables: made by hand, not by models."""
    return name == SEARCH_TABLE or name.startswith(f"{SEARCH_TABLE}_")


def include_in_schema_check(name: str | None, type_: str, _parents: object) -> bool:
    """Alembic's ``include_name``: compare everything but the hand-made search indexes
    (the documents' full-text index, the session titles' trigram index)."""
    if name is None:
        return True
    return not ((type_ == "table" and is_search_table(name)) or is_title_trigrams(name))


class Document(Base):
    """A file in a domain. ``number`` is its 64-bit integer id, ``id`` its UUID."""

    __tablename__ = "documents"
    __table_args__ = (
        # The same bytes are stored once per domain; also serves the domain's listing.
        UniqueConstraint("tenant_id", "domain_id", "sha256"),
        Index(None, "tenant_id", "domain_id", "number"),
        Index(None, "domain_id"),  # the domain's cascading delete
        CheckConstraint("status IN ('queued', 'parsing', 'ready', 'failed')", name="status"),
    )

    number: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    id: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    domain_id: Mapped[UUID] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    content_type: Mapped[str] = mapped_column(String(CONTENT_TYPE_MAX))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    source_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    pages: Mapped[int | None] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    text_chars: Mapped[int | None] = mapped_column(Integer)
    parse_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class DocumentContent(Base):
    """A document's original bytes, apart from its row so listings never read them."""

    __tablename__ = "document_contents"

    document_number: Mapped[int] = mapped_column(
        ForeignKey("documents.number", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Chunk(Base):
    """A retrievable passage: where it is in its document and under which headings."""

    __tablename__ = "chunks"
    __table_args__ = (UniqueConstraint("document_number", "seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    document_number: Mapped[int] = mapped_column(ForeignKey("documents.number", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    page_start: Mapped[int | None] = mapped_column(Integer)
    page_end: Mapped[int | None] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    heading_path: Mapped[list[Any]] = mapped_column(JSON)
    text: Mapped[str] = mapped_column(Text)


class IngestJob(Base):
    """A document waiting to be parsed. The row exists only while the work is pending.

    ``available_at`` is when a worker may take it: its enqueue time, its backoff after a
    failure, or (while claimed) the lease's end, so a dead worker's job comes back by
    itself and one index serves the claim.
    """

    __tablename__ = "ingest_jobs"
    __table_args__ = (Index(None, "available_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    document_number: Mapped[int] = mapped_column(
        ForeignKey("documents.number", ondelete="CASCADE"), unique=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
