"""A ready document's parsed text, as blocks, rebuilt from its stored chunks.

The parser's own output is not stored, only the chunks, and each chunk's text is an
exact slice (``char_start:char_end``) of the parsed text, whose blocks are joined by blank
lines. So the text comes back by laying the chunks over each other (they overlap), and
the blocks by cutting it at blank lines. What the chunks do not hold is lost: the one
thing the chunker drops is a heading followed directly by another heading, and that one
is put back from the next chunk's heading path.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from chatkeep.core.auth import require
from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge.documents import to_record
from chatkeep.core.knowledge.models import Chunk
from chatkeep.core.knowledge.repository import chunks as chunk_rows
from chatkeep.core.knowledge.repository import documents as rows
from chatkeep.core.knowledge.types import DocumentRecord
from chatkeep.core.types import Principal, Scope
from chatkeep.core.uow import UnitOfWork

BLOCK_SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class ParsedBlock:
    text: str
    heading_level: int  # 0: body text; n ≥ 1: a heading n deep in the heading path
    pages: tuple[int, ...]  # its page, or the pages it may be on; () where there are none


@dataclass(frozen=True, slots=True)
class ParsedContent:
    document: DocumentRecord
    blocks: list[ParsedBlock]  # empty unless the document is ready


async def parsed_document(
    uow: UnitOfWork, principal: Principal, document_id: uuid.UUID
) -> ParsedContent:
    require(principal, Scope.DOCUMENTS_READ, "read documents")
    document = await rows.get_document(uow.db, principal.tenant_id, document_id)
    if document is None:
        raise NotFound("document")
    if document.status != "ready":
        return ParsedContent(to_record(document), [])
    chunks = await chunk_rows.chunks_of(uow.db, principal.tenant_id, document.number)
    return ParsedContent(to_record(document), blocks_of(chunks))


@dataclass(slots=True)
class _Segment:
    """New text one chunk adds, and whether it starts a fresh block."""

    text: str
    fresh: bool
    chunk: Chunk


def blocks_of(chunks: Sequence[Chunk]) -> list[ParsedBlock]:
    """The chunks (in ``seq`` order) as the document's blocks, in reading order."""
    blocks: list[ParsedBlock] = []
    emitted_path: list[str] = []
    for segment in _segments(chunks):
        chunk = segment.chunk
        pieces = segment.text.split(BLOCK_SEPARATOR)
        starts_with_heading = segment.fresh and bool(chunk.heading_path)
        if starts_with_heading and pieces[0] == chunk.heading_path[-1]:
            path = [str(h) for h in chunk.heading_path]
            # Ancestors not shown yet: headings the chunker dropped (no text of their own).
            shared = 0
            while shared < min(len(emitted_path), len(path) - 1) and (
                emitted_path[shared] == path[shared]
            ):
                shared += 1
            for depth in range(shared, len(path) - 1):
                blocks.append(ParsedBlock(path[depth], depth + 1, _pages(chunk, 0, 2)))
            blocks.append(ParsedBlock(pieces[0], len(path), _pages(chunk, 0, len(pieces))))
            emitted_path = path
            rest = list(enumerate(pieces))[1:]
        else:
            rest = list(enumerate(pieces))
        for i, piece in rest:
            if i == 0 and not segment.fresh and blocks:
                last = blocks[-1]  # the chunk goes on with a block the previous one cut
                blocks[-1] = ParsedBlock(last.text + piece, last.heading_level, last.pages)
            elif piece:
                blocks.append(ParsedBlock(piece, 0, _pages(chunk, i, len(pieces))))
    return blocks


def _segments(chunks: Sequence[Chunk]) -> list[_Segment]:
    segments: list[_Segment] = []
    covered = 0  # the parsed text's offsets laid down so far
    for chunk in chunks:
        if chunk.char_end <= covered:
            continue
        if chunk.char_start >= covered:
            # A gap (the blank line between blocks, or a dropped heading) starts a block;
            # a chunk that begins exactly where the last ended goes on with its block.
            fresh = not segments or chunk.char_start > covered
            segments.append(_Segment(chunk.text, fresh, chunk))
        else:
            new = chunk.text[covered - chunk.char_start :]
            fresh = new.startswith(BLOCK_SEPARATOR)
            segments.append(_Segment(new.removeprefix(BLOCK_SEPARATOR), fresh, chunk))
        covered = chunk.char_end
    return segments


def _pages(chunk: Chunk, index: int, count: int) -> tuple[int, ...]:
    """A chunk's first block is on its first page, its last on its last; one between may
    be on any page of the chunk's range."""
    start, end = chunk.page_start, chunk.page_end
    if start is None:
        return ()
    end = end if end is not None and end >= start else start
    if index == 0 or start == end:
        return (start,)
    if index == count - 1:
        return (end,)
    return tuple(range(start, end + 1))
