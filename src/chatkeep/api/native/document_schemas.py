"""Native wire shapes of documents and retrieval."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr

from chatkeep.api.native.schemas import RequestModel
from chatkeep.core.knowledge.retrieval import (
    DOCUMENT_IDS_MAX,
    QUERY_MAX_CHARS,
    TOP_K_MAX,
    RetrievedChunk,
)
from chatkeep.core.knowledge.types import DocumentRecord

URL_MAX = 2048


class DocumentFromUrl(RequestModel):
    url: StrictStr = Field(min_length=1, max_length=URL_MAX, description="http(s) URL to fetch.")


class DocumentOut(BaseModel):
    id: uuid.UUID
    number: int = Field(description="The document's 64-bit integer id.")
    domain_id: uuid.UUID
    name: str
    content_type: str
    size_bytes: int
    sha256: str
    source_url: str | None
    status: Literal["queued", "parsing", "ready", "failed"]
    error: str | None = Field(description="Why ingestion failed, in words a person can act on.")
    pages: int | None
    chunks: int
    text_chars: int | None
    parse_ms: int | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, d: DocumentRecord) -> DocumentOut:
        return cls(
            id=d.id, number=d.number, domain_id=d.domain_id, name=d.name,
            content_type=d.content_type, size_bytes=d.size_bytes, sha256=d.sha256,
            source_url=d.source_url, status=d.status,
            error=d.error, pages=d.pages, chunks=d.chunks, text_chars=d.text_chars,
            parse_ms=d.parse_ms, created_at=d.created_at, updated_at=d.updated_at,
            started_at=d.started_at, finished_at=d.finished_at,
        )  # fmt: skip


class RetrieveRequest(RequestModel):
    query: StrictStr = Field(min_length=1, max_length=QUERY_MAX_CHARS)
    domain_id: uuid.UUID | None = Field(default=None, description="This domain and its subtree.")
    document_ids: list[uuid.UUID] | None = Field(
        default=None, min_length=1, max_length=DOCUMENT_IDS_MAX, description="Or these documents."
    )
    top_k: StrictInt = Field(default=5, ge=1, le=TOP_K_MAX)


class RetrievedChunkOut(BaseModel):
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_number: int
    document_name: str
    text: str
    snippet: str = Field(description="HTML-escaped, the query's words in <mark>…</mark>.")
    score: float
    page_start: int | None
    page_end: int | None
    char_start: int
    char_end: int
    heading_path: list[str]

    @classmethod
    def of(cls, c: RetrievedChunk) -> RetrievedChunkOut:
        return cls(
            chunk_id=c.chunk_id, document_id=c.document_id, document_number=c.document_number,
            document_name=c.document_name, text=c.text, snippet=c.snippet, score=c.score,
            page_start=c.page_start, page_end=c.page_end, char_start=c.char_start,
            char_end=c.char_end, heading_path=c.heading_path,
        )  # fmt: skip


class RetrieveOut(BaseModel):
    data: list[RetrievedChunkOut]
