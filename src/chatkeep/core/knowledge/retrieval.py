"""Retrieval's query and result types (contracts.md). The knowledge work provides this module
in full (with ``retrieve``); until it is merged it holds only these two dataclasses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID


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
