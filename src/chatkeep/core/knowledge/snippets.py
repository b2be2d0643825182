"""Highlighted excerpts, made here rather than by the database.

The index holds text cut into words (spaces between Chinese words), so the database's
own ``snippet()``/``ts_headline`` would show those spaces; this marks the query's words in
the chunk's real text, the same way on both databases, HTML-escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

SNIPPET_CHARS = 240
_LATIN = re.compile(r"^[0-9a-z\u00c0-\u024f]+$")
_SUFFIXES = ("ing", "ed", "es", "s")


def snippet(text: str, query_words: Sequence[str], width: int = SNIPPET_CHARS) -> str:
    pattern = _pattern(query_words)
    first = pattern.search(text) if pattern else None
    start = 0 if first is None else max(0, first.start() - width // 3)
    if start:
        space = text.find(" ", start, first.start() if first else start)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + width)
    window = text[start:end]
    marked = _mark(window, pattern) if pattern else html.escape(window)
    return ("…" if start else "") + marked + ("…" if end < len(text) else "")


def _pattern(query_words: Sequence[str]) -> re.Pattern[str] | None:
    terms = []
    for word in sorted(set(query_words), key=len, reverse=True):
        if _LATIN.match(word):
            # English is stemmed in the index: "parks" finds "park", "parking", "Parked".
            terms.append(rf"\b{re.escape(_stem(word))}\w*")
        else:
            terms.append(re.escape(word))
    return re.compile("|".join(terms), re.IGNORECASE) if terms else None


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _mark(window: str, pattern: re.Pattern[str]) -> str:
    out, at = [], 0
    for found in pattern.finditer(window):
        out.append(html.escape(window[at : found.start()]))
        out.append(f"<mark>{html.escape(found.group())}</mark>")
        at = found.end()
    out.append(html.escape(window[at:]))
    return "".join(out)
