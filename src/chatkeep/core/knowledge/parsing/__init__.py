"""Parsing: original bytes → the document's text as blocks (pages, headings, paragraphs).

``sniff`` decides the format at upload time (so an unsupported file is refused before
anything is stored); ``parse`` runs in the ingestion worker.
"""

from __future__ import annotations

from chatkeep.core.knowledge.parsing.blocks import Block, Limits, ParsedDocument, ParseFailure
from chatkeep.core.knowledge.parsing.docx import parse_docx
from chatkeep.core.knowledge.parsing.html import parse_html
from chatkeep.core.knowledge.parsing.pdf import parse_pdf
from chatkeep.core.knowledge.parsing.text import parse_csv, parse_markdown, parse_plain

__all__ = ["Block", "Limits", "ParseFailure", "ParsedDocument", "parse", "sniff"]

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HTML = "text/html"
MARKDOWN = "text/markdown"
CSV = "text/csv"
PLAIN = "text/plain"
SUPPORTED = (PDF, DOCX, HTML, MARKDOWN, CSV, PLAIN)

_BY_SUFFIX = {
    ".pdf": PDF, ".docx": DOCX, ".html": HTML, ".htm": HTML, ".md": MARKDOWN,
    ".markdown": MARKDOWN, ".csv": CSV, ".txt": PLAIN, ".text": PLAIN,
}  # fmt: skip


def sniff(data: bytes, name: str, declared: str | None) -> str | None:
    """The format of ``data``, from its first bytes, then its name, then the declared type;
    None: not a format chatkeep reads."""
    declared = (declared or "").split(";")[0].strip().lower()
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if data.startswith(b"%PDF-"):
        return PDF
    claimed = _BY_SUFFIX.get(suffix) or (declared if declared in SUPPORTED else None)
    if claimed == PDF:
        return PDF  # without a PDF header it fails at parsing: "not a readable PDF"
    if claimed == DOCX or data.startswith(b"PK\x03\x04"):
        # A ZIP that is not a DOCX fails at parsing with a reason ("not a DOCX").
        return DOCX if claimed in (DOCX, None) else None
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None  # binary, and none of the binary formats above
    head = data[:1024].lstrip().lower()
    if claimed is None and head.startswith((b"<!doctype html", b"<html")):
        return HTML
    return claimed or PLAIN


def parse(data: bytes, content_type: str, limits: Limits) -> ParsedDocument:
    """Parse one document; every problem is a ParseFailure with a reason."""
    pages: int | None = None
    if content_type == PDF:
        blocks, pages = parse_pdf(data, limits)
    elif content_type == DOCX:
        blocks = parse_docx(data, limits)
    elif content_type == HTML:
        blocks = parse_html(data)
    elif content_type == MARKDOWN:
        blocks = parse_markdown(data)
    elif content_type == CSV:
        blocks = parse_csv(data)
    elif content_type == PLAIN:
        blocks = parse_plain(data)
    else:
        raise ParseFailure(f"unsupported content type {content_type!r}")
    return ParsedDocument.of(blocks, pages, limits)
