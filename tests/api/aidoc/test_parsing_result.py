"""GetDocParsingResult's content: the parsed text rebuilt from real chunks, then rendered."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import orjson

from chatkeep.api.aidoc.parsing_result import json_content, markdown
from chatkeep.core.knowledge import parsing
from chatkeep.core.knowledge.chunking import chunk
from chatkeep.core.knowledge.models import Chunk
from chatkeep.core.knowledge.parsed import ParsedContent, blocks_of
from chatkeep.core.knowledge.parsing import Limits
from chatkeep.core.knowledge.types import DocumentRecord

LIMITS = Limits(max_pages=100, max_text_chars=1_000_000, max_unpacked_bytes=10_000_000)


def chunks_of(source: str, target: int) -> tuple[str, list[Chunk]]:
    parsed = parsing.parse(source.encode(), "text/markdown", LIMITS)
    drafts = chunk(parsed, target)
    rows = [
        Chunk(
            seq=d.seq, text=d.text, char_start=d.char_start, char_end=d.char_end,
            page_start=d.page_start, page_end=d.page_end, heading_path=d.heading_path,
        )
        for d in drafts
    ]  # fmt: skip
    return parsed.text, rows


def record(pages: int | None = None) -> DocumentRecord:
    now = datetime.now(UTC)
    return DocumentRecord(
        id=uuid.uuid4(), number=7, domain_id=uuid.uuid4(), name="a.md",
        content_type="text/markdown", size_bytes=1, sha256="0" * 64, source_url=None,
        status="ready", error=None, pages=pages, chunks=1, text_chars=1, parse_ms=1,
        created_at=now, updated_at=now, started_at=now, finished_at=now,
    )  # fmt: skip


def test_overlapping_chunks_give_back_the_parsed_text_exactly() -> None:
    paragraphs = [f"Paragraph {n} talks about turbines and their blades." for n in range(40)]
    text, chunks = chunks_of("# Turbines\n\n" + "\n\n".join(paragraphs), target=30)
    assert len(chunks) > 5 and any(b.char_start < a.char_end for a, b in itertools.pairwise(chunks))
    blocks = blocks_of(chunks)
    assert "\n\n".join(b.text for b in blocks) == text
    assert [b.heading_level for b in blocks[:2]] == [1, 0]


def test_a_paragraph_cut_at_sentences_is_one_block_again() -> None:
    long = " ".join(f"Sentence {n} is here." for n in range(60))
    _text, chunks = chunks_of(f"{long}\n\nAfter.", target=20)
    assert len(chunks) > 3
    assert [b.text for b in blocks_of(chunks)] == [long, "After."]


def test_a_heading_the_chunker_dropped_comes_back_from_the_path() -> None:
    _text, chunks = chunks_of(
        "# Guide\n\n## Hours\n\nOpen at six.\n\n## Prices\n\nFive euros.", 300
    )
    content = ParsedContent(record(), blocks_of(chunks))
    assert markdown(content) == "# Guide\n\n## Hours\n\nOpen at six.\n\n## Prices\n\nFive euros."
    data = orjson.loads(json_content(content))
    assert data["doc_info"] == {
        "doc_type": "md",
        "doc_name": "a.md",
        "pages": None,
        "page_list": [],
    }
    assert [(e["uniqueId"], e["type"], e["level"]) for e in data["doc_data"]] == [
        ("7-0", "title", 1), ("7-1", "title", 2), ("7-2", "text", 0),
        ("7-3", "title", 2), ("7-4", "text", 0),
    ]  # fmt: skip
