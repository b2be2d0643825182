"""Chunks: a few hundred tokens each, cut at headings and paragraphs, with overlap.

A chunk's text is always an exact slice of the parsed text (``char_start:char_end``), so
a citation can point at the place. A heading starts a new chunk; a paragraph longer than
a chunk is cut at sentence ends (hard cut as a last resort); consecutive chunks under the
same heading share their last paragraph(s), up to OVERLAP_TOKENS.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from chatkeep.core.knowledge.parsing import ParsedDocument

TARGET_TOKENS = 300
OVERLAP_TOKENS = 60
# A rough token count that treats each CJK character as one token, each Latin word as one.
_TOKEN = re.compile(r"[A-Za-z0-9\u00c0-\u024f]+|[^\sA-Za-z0-9\u00c0-\u024f]")
# Sentence ends: . ! ? ; and the ideographic full stop (NFKC has made full-width ! ? ; ASCII).
_SENTENCE_END = re.compile("(?<=[.!?;\u3002])\\s*")


@dataclass(frozen=True, slots=True)
class ChunkDraft:
    seq: int
    text: str
    char_start: int
    char_end: int
    page_start: int | None
    page_end: int | None
    heading_path: list[str]


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    tokens: int
    page: int | None
    heading: int  # the heading level (0: body)


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def chunk(parsed: ParsedDocument, target: int = TARGET_TOKENS) -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    path: list[tuple[int, str]] = []  # (level, heading) from the top
    current: list[_Piece] = []

    def flush(keep_overlap: bool) -> None:
        if _has_body(current):
            drafts.append(_draft(parsed.text, len(drafts), current, [h for _, h in path]))
        tail = _overlap(current) if keep_overlap else []
        current[:] = tail

    for piece in _pieces(parsed, target):
        if piece.heading:
            flush(keep_overlap=False)
            text = parsed.text[piece.start : piece.end]
            path[:] = [(lvl, h) for lvl, h in path if lvl < piece.heading] + [(piece.heading, text)]
        elif _has_body(current) and sum(p.tokens for p in current) + piece.tokens > target:
            flush(keep_overlap=True)
        current.append(piece)
    flush(keep_overlap=False)
    return drafts


def _has_body(pieces: list[_Piece]) -> bool:
    return any(p.heading == 0 for p in pieces)


def _draft(text: str, seq: int, pieces: list[_Piece], path: list[str]) -> ChunkDraft:
    start, end = pieces[0].start, pieces[-1].end
    return ChunkDraft(
        seq=seq, text=text[start:end], char_start=start, char_end=end,
        page_start=pieces[0].page, page_end=pieces[-1].page, heading_path=path,
    )  # fmt: skip


def _overlap(pieces: list[_Piece]) -> list[_Piece]:
    """The trailing body pieces that fit in OVERLAP_TOKENS (the next chunk starts with them)."""
    tail: list[_Piece] = []
    budget = OVERLAP_TOKENS
    for piece in reversed(pieces[1:]):  # never the whole chunk again
        if piece.heading or piece.tokens > budget:
            break
        tail.insert(0, piece)
        budget -= piece.tokens
    return tail


def _pieces(parsed: ParsedDocument, target: int) -> list[_Piece]:
    found: list[_Piece] = []
    for block, (start, end) in zip(parsed.blocks, parsed.spans, strict=True):
        tokens = count_tokens(block.text)
        if block.heading_level or tokens <= target:
            found.append(_Piece(start, end, tokens, block.page, block.heading_level))
            continue
        found.extend(
            _Piece(s, e, t, block.page, 0) for s, e, t in _split(parsed.text, start, end, target)
        )
    return found


def _split(text: str, start: int, end: int, target: int) -> list[tuple[int, int, int]]:
    """Cut text[start:end] into spans of at most ``target`` tokens, at sentence ends if any."""
    spans: list[tuple[int, int, int]] = []
    bounds = [start] + [start + m.end() for m in _SENTENCE_END.finditer(text[start:end])] + [end]
    piece_start, tokens = start, 0
    for left, right in itertools.pairwise(bounds):
        sentence = count_tokens(text[left:right])
        if tokens and tokens + sentence > target:
            spans.append((piece_start, left, tokens))
            piece_start, tokens = left, 0
        tokens += sentence
    spans.append((piece_start, end, tokens))
    return [h for s in spans for h in _hard_split(text, *s, target)]


def _hard_split(
    text: str, start: int, end: int, tokens: int, target: int
) -> list[tuple[int, int, int]]:
    """A sentence with no end in sight (a table dump, a CJK run without punctuation)."""
    if tokens <= target:
        return [(start, end, tokens)] if end > start else []
    matches = list(_TOKEN.finditer(text, start, end))
    cuts = [matches[i].start() for i in range(target, len(matches), target)]
    edges = [start, *cuts, end]
    return [(a, b, count_tokens(text[a:b])) for a, b in itertools.pairwise(edges)]
