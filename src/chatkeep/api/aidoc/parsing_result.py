"""GetDocParsingResult's ``content``: a parsed document as Markdown or as Alibaba's JSON.

The JSON is the subset of Alibaba's documented ``{doc_info, doc_data}`` that chatkeep's
parser knows (docs/aidoc.md): no positions, images, tables or languages.
"""

from __future__ import annotations

from typing import Any

import orjson

from chatkeep.core.knowledge.parsed import ParsedBlock, ParsedContent

DOC_TYPES = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/html": "html",
    "text/markdown": "md",
    "text/csv": "csv",
    "text/plain": "txt",
}


def markdown(content: ParsedContent) -> str:
    """Headings as ``#`` lines (as deep as the heading path), other blocks as paragraphs."""
    return "\n\n".join(_markdown_block(b) for b in content.blocks)


def _markdown_block(block: ParsedBlock) -> str:
    if block.heading_level:
        # A heading is one line in Markdown, and at most six levels deep.
        return f"{'#' * min(block.heading_level, 6)} {' '.join(block.text.splitlines())}"
    return block.text


def json_content(content: ParsedContent) -> str:
    document = content.document
    doc_info = {
        "doc_type": DOC_TYPES.get(document.content_type, "txt"),
        "doc_name": document.name,
        "pages": document.pages,
        "page_list": [{"page_num": n} for n in range(1, (document.pages or 0) + 1)],
    }
    doc_data = [_element(document.number, i, b) for i, b in enumerate(content.blocks)]
    return orjson.dumps({"doc_info": doc_info, "doc_data": doc_data}).decode()


def _element(number: int, index: int, block: ParsedBlock) -> dict[str, Any]:
    heading = block.heading_level > 0
    return {
        "uniqueId": f"{number}-{index}",
        "index": index,
        "page_num": list(block.pages),
        "type": "title" if heading else "text",
        "subType": "title" if heading else "para",
        "level": block.heading_level,
        "text": block.text,
    }
