"""DOCX through python-docx, after checking the ZIP archive cannot expand into a bomb."""

from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.document import Document as DocxDocument
from docx.table import Table
from docx.text.paragraph import Paragraph

from chatkeep.core.knowledge.parsing.blocks import Block, Limits, ParseFailure

MAX_RATIO = 200  # a member expanding more than this is not an office document
_HEADING = re.compile(r"^(?:Heading|标题)\s*(\d)$")


def parse_docx(data: bytes, limits: Limits) -> list[Block]:
    _check_archive(data, limits)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors...
        raise ParseFailure(f"not a DOCX ({type(exc).__name__}: {exc})") from None
    return list(_blocks(document))


def _check_archive(data: bytes, limits: Limits) -> None:
    """Sizes come from the ZIP's directory, read before anything is decompressed."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise ParseFailure("not a DOCX (it is not a ZIP archive)") from None
    if not any(m.filename == "word/document.xml" for m in members):
        raise ParseFailure("not a DOCX (no word/document.xml inside)")
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes:
        raise ParseFailure(
            f"the DOCX expands to {total} bytes, more than the limit of "
            f"{limits.max_unpacked_bytes} (a zip bomb?)"
        )
    for member in members:
        if member.file_size > MAX_RATIO * max(member.compress_size, 1) + 1024 * 1024:
            raise ParseFailure(
                f"the DOCX member {member.filename} expands suspiciously much (a zip bomb?)"
            )


def _blocks(document: DocxDocument) -> list[Block]:
    found: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            found.append(Block(item.text, _heading_level(item)))
        elif isinstance(item, Table):
            for row in item.rows:
                cells = [c.text.strip() for c in row.cells]
                # Merged cells repeat; keep each text once per row.
                found.append(Block(" | ".join(dict.fromkeys(c for c in cells if c))))
    return found


def _heading_level(paragraph: Paragraph) -> int:
    name = paragraph.style.name if paragraph.style is not None else ""
    if name == "Title":
        return 1
    match = _HEADING.match(name or "")
    return min(int(match.group(1)), 6) if match else 0
