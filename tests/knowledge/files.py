"""Small real files of every format, made in the test (no binary fixtures checked in)."""

from __future__ import annotations

import io
import zipfile

import docx
from fpdf import FPDF
from pypdf import PdfWriter


def pdf(*pages: str) -> bytes:
    document = FPDF()
    document.set_font("helvetica", size=12)
    for text in pages:
        document.add_page()
        document.multi_cell(0, 8, text)
    return bytes(document.output())


def encrypted_pdf(text: str = "secret plans") -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf(text)))
    writer.encrypt(user_password="hunter2", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_file(heading: str, *paragraphs: str, table: list[list[str]] | None = None) -> bytes:
    document = docx.Document()
    document.add_heading(heading, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A DOCX-shaped archive whose document.xml expands to 200 MB of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (200 * 1024 * 1024))
    return out.getvalue()


MARKDOWN = """# Visitor guide

Welcome to the city. This guide covers parks, museums and transport.

## Parks

The central park opens at six in the morning. Parking is free on Sundays.
Dogs are welcome in every park if they are kept on a lead.

## 公园

市中心的公园早上六点开门。周日停车免费。我们欢迎大家在公园里散步。

## Museums

The history museum is closed on Mondays. Tickets cost ten euros.
""".encode()
