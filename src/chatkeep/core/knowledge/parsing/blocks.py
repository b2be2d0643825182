"""What every parser produces: the document's text as blocks, in reading order."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n")


class ParseFailure(Exception):
    """The file cannot be ingested; ``reason`` says why in words a person can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Block:
    text: str
    heading_level: int = 0  # 1-6 for a heading, 0 for body text (paragraph, table row...)
    page: int | None = None  # 1-based; None where the format has no pages


@dataclass(frozen=True, slots=True)
class Limits:
    max_pages: int
    max_text_chars: int
    max_unpacked_bytes: int  # DOCX: the archive's members may expand to at most this


@dataclass(slots=True)
class ParsedDocument:
    """Blocks with their offsets into ``text`` (the blocks joined by blank lines)."""

    blocks: list[Block]
    pages: int | None
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)

    @classmethod
    def of(cls, blocks: list[Block], pages: int | None, limits: Limits) -> ParsedDocument:
        kept = [b for b in (_normalised(b) for b in blocks) if b.text]
        if not kept:
            raise ParseFailure("the document contains no text")
        parsed = cls(kept, pages)
        pieces, at = [], 0
        for block in kept:
            parsed.spans.append((at, at + len(block.text)))
            pieces.append(block.text)
            at += len(block.text) + 2
        parsed.text = "\n\n".join(pieces)
        if len(parsed.text) > limits.max_text_chars:
            raise ParseFailure(
                f"the document's text is longer than the limit of {limits.max_text_chars} "
                "characters; split it into smaller documents"
            )
        return parsed


def _normalised(block: Block) -> Block:
    # NFKC: PDF ligatures (ﬁ), full-width Latin and compatibility forms become plain text.
    text = unicodedata.normalize("NFKC", block.text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if line)
    return Block(text, block.heading_level, block.page)


def paragraphs(text: str, page: int | None = None) -> list[Block]:
    """Body blocks split at blank lines."""
    return [Block(p, 0, page) for p in _BLANK_LINES.split(text) if p.strip()]
