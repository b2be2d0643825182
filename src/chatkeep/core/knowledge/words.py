"""Words for the full-text index: Chinese cut by jieba, the same way at index and query time.

Neither FTS5's ``unicode61`` tokenizer nor PostgreSQL's parser splits a run of Chinese
characters into words, so a 2-character word such as 公园 inside a sentence would never
match. jieba's search mode (``cut_for_search``) emits the words *and* their shorter
sub-words; the database then sees space-separated words and stems the English ones
itself (FTS5 ``porter``, PostgreSQL ``english``).
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

import jieba

_WORD = re.compile(r"\w+")
_INIT = threading.Lock()
_ready = False
MAX_QUERY_WORDS = 64
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "there",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


def _tokenizer() -> jieba.Tokenizer:
    global _ready
    if not _ready:
        with _INIT:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)  # it logs its dictionary load at INFO
                jieba.initialize()
                _ready = True
    return jieba.dt


def words(text: str) -> list[str]:
    """The text's words, lower-cased, in order (punctuation and spaces dropped)."""
    normal = unicodedata.normalize("NFKC", text).lower()
    # A cut such as "3.5" or "e-mail" splits further, as the database's tokenizer would.
    return [w for cut in _tokenizer().cut_for_search(normal) for w in _WORD.findall(cut)]


def index_text(text: str) -> str:
    """What the database indexes for ``text``: its words separated by spaces."""
    return " ".join(words(text))


def query_words(text: str) -> list[str]:
    """A query's distinct words, first occurrence first; at most MAX_QUERY_WORDS.

    Common English words are dropped (unless nothing else is left): PostgreSQL's
    'english' configuration ignores them anyway, and on SQLite an OR of "the" would
    match, and rank, nearly every chunk.
    """
    seen: dict[str, None] = {}
    for word in words(text):
        seen.setdefault(word, None)
    found = list(seen)
    meaningful = [w for w in found if w not in ENGLISH_STOPWORDS]
    return (meaningful or found)[:MAX_QUERY_WORDS]


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) rather than in the first request."""
    _tokenizer()
