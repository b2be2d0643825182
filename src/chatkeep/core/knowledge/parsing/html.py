"""HTML: headings and block elements in document order; scripts, styles and navigation dropped."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from chatkeep.core.knowledge.parsing.blocks import Block, paragraphs
from chatkeep.core.knowledge.parsing.text import decode

_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = {"p", "li", "pre", "blockquote", "tr", "dt", "dd", "figcaption", "caption"}
_DROPPED = "script, style, noscript, template, nav, header, footer, svg, iframe, form"


def parse_html(data: bytes) -> list[Block]:
    tree = LexborHTMLParser(decode(data))
    for node in tree.css(_DROPPED):
        node.decompose()
    root = tree.body or tree.root
    if root is None:
        return []
    blocks = [b for node in root.traverse() if (b := _block(node)) is not None]
    return blocks or paragraphs(root.text(separator="\n"))


def _block(node: LexborNode) -> Block | None:
    tag = node.tag
    if tag not in _HEADINGS and tag not in _BLOCKS:
        return None
    if _inside_block(node):  # a <p> inside an <li> is part of the <li>'s block
        return None
    if tag == "tr":
        cells = [c.text(separator=" ", strip=True) for c in node.iter() if c.tag in {"td", "th"}]
        return Block(" | ".join(cells))
    separator = "\n" if tag == "pre" else " "
    return Block(node.text(separator=separator, strip=True), _HEADINGS.get(tag, 0))


def _inside_block(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in _BLOCKS or parent.tag in _HEADINGS:
            return True
        parent = parent.parent
    return False
