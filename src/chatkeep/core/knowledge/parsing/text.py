"""Plain text, Markdown and CSV."""

from __future__ import annotations

import csv
import io
import re

from chatkeep.core.knowledge.parsing.blocks import Block, ParseFailure, paragraphs

_ATX = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
CSV_ROWS_PER_BLOCK = 20


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM, else GB 18030 (Chinese legacy files)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise ParseFailure("not a text file (it contains binary data)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ParseFailure("the text is in an unknown encoding; save it as UTF-8")


def parse_plain(data: bytes) -> list[Block]:
    return paragraphs(decode(data))


def parse_markdown(data: bytes) -> list[Block]:
    """ATX headings (``# Title``) and blank-line paragraphs; fenced code stays one block."""
    blocks: list[Block] = []
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        if lines:
            blocks.append(Block("\n".join(lines)))
            lines.clear()

    for line in decode(data).splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        heading = None if in_fence else _ATX.match(line)
        if heading:
            flush()
            blocks.append(Block(heading.group(2), len(heading.group(1))))
        elif not line.strip() and not in_fence:
            flush()
        else:
            lines.append(line)
    flush()
    return blocks


def parse_csv(data: bytes) -> list[Block]:
    """Rows as ``a | b | c`` lines, a few rows per block, each block led by the header."""
    try:
        rows = [r for r in csv.reader(io.StringIO(decode(data))) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise ParseFailure(f"not a readable CSV file: {exc}") from None
    if not rows:
        return []
    header, body = " | ".join(rows[0]), [" | ".join(r) for r in rows[1:]]
    if not body:
        return [Block(header)]
    return [
        Block("\n".join([header, *body[i : i + CSV_ROWS_PER_BLOCK]]))
        for i in range(0, len(body), CSV_ROWS_PER_BLOCK)
    ]
