"""Values that cross the knowledge core's boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class NewDocument:
    name: str
    data: bytes
    declared_type: str | None = None  # what the client said; sniffing decides
    source_url: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    id: UUID
    number: int
    domain_id: UUID
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    source_url: str | None
    status: str
    error: str | None
    pages: int | None
    chunks: int
    text_chars: int | None
    parse_ms: int | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class AddedDocument:
    document: DocumentRecord
    created: bool  # False: the same bytes were already in the domain (nothing stored)


@dataclass(frozen=True, slots=True)
class DocumentListQuery:
    domain_id: UUID
    status: str | None = None
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class DocumentContentRecord:
    name: str
    content_type: str
    data: bytes
