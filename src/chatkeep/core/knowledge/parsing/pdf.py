"""PDF through pypdf: one or more blocks per page (paragraphs at blank lines)."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from chatkeep.core.knowledge.parsing.blocks import Block, Limits, ParseFailure, paragraphs

# pypdf logs every oddity of a damaged file as a warning; a failure is reported once, by us.
logging.getLogger("pypdf").setLevel(logging.ERROR)


def parse_pdf(data: bytes, limits: Limits) -> tuple[list[Block], int]:
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _opens_without_password(reader):
            raise ParseFailure("encrypted PDF: remove the password and upload it again")
        pages = len(reader.pages)
        if pages > limits.max_pages:
            raise ParseFailure(
                f"the PDF has {pages} pages, more than the limit of {limits.max_pages}"
            )
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            blocks.extend(paragraphs(page.extract_text() or "", page=number))
    except (PdfReadError, FileNotDecryptedError) as exc:
        raise ParseFailure(f"not a readable PDF ({exc})") from None
    except ParseFailure:
        raise
    except Exception as exc:  # pypdf raises many kinds on damaged files
        raise ParseFailure(f"not a readable PDF ({type(exc).__name__}: {exc})") from None
    if not any(b.text.strip() for b in blocks):
        raise ParseFailure(
            "no text layer: the PDF holds only images (a scan?); run OCR on it first"
        )
    return blocks, pages


def _opens_without_password(reader: PdfReader) -> bool:
    """Many PDFs are 'encrypted' only to set permissions, with an empty user password."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False
