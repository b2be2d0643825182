"""Documented size limits the core enforces whatever the interface (see README)."""

from __future__ import annotations

from typing import Any

import orjson

from chatkeep.core.errors import InvalidArgument
from chatkeep.core.models import NAME_MAX, TITLE_MAX

SYSTEM_CONTEXT_MAX = 65_536  # characters
METADATA_MAX_BYTES = 16_384  # serialised JSON
PAGE_MAX = 100
METADATA_DEPTH_MAX = 32  # nesting of objects/arrays inside metadata
REFERENCES_MAX = 100  # items in metadata["references"] (AI-doc's refDocList)
CURSOR_MAX = 4096  # characters; a real cursor of the longest title stays well under


def check_text(text: str, field: str) -> None:
    """Text every store can hold: PostgreSQL refuses NUL, UTF-8 refuses lone surrogates."""
    if "\x00" in text:
        raise InvalidArgument(field, "must not contain NUL (U+0000) characters")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InvalidArgument(field, "must be valid Unicode (no unpaired surrogates)") from None


def check_title(title: str, field: str = "title") -> None:
    check_text(title, field)
    if len(title) > TITLE_MAX:
        raise InvalidArgument(field, f"must be at most {TITLE_MAX} characters")


def check_name(name: str, field: str = "name") -> None:
    check_text(name, field)
    if not name.strip():
        raise InvalidArgument(field, "must not be blank")
    if len(name) > NAME_MAX:
        raise InvalidArgument(field, f"must be at most {NAME_MAX} characters")


def check_system_context(text: str) -> None:
    check_text(text, "system_context")
    if len(text) > SYSTEM_CONTEXT_MAX:
        raise InvalidArgument("system_context", f"must be at most {SYSTEM_CONTEXT_MAX} characters")


def check_metadata(metadata: dict[str, Any]) -> None:
    if _depth(metadata) > METADATA_DEPTH_MAX:
        raise InvalidArgument("metadata", f"must nest at most {METADATA_DEPTH_MAX} levels deep")
    references = metadata.get("references")
    if isinstance(references, list) and len(references) > REFERENCES_MAX:
        raise InvalidArgument("metadata", f"references must hold at most {REFERENCES_MAX} items")
    try:
        size = len(orjson.dumps(metadata))
    except orjson.JSONEncodeError:  # valid JSON, but an integer past 64 bits or a lone surrogate
        raise InvalidArgument(
            "metadata", "must hold only 64-bit integers and valid Unicode strings"
        ) from None
    if size > METADATA_MAX_BYTES:
        raise InvalidArgument("metadata", f"must serialise to at most {METADATA_MAX_BYTES} bytes")


def check_limit(limit: int) -> None:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidArgument("limit", f"must be between 1 and {PAGE_MAX}")


def _depth(value: Any) -> int:
    """Nesting depth of a JSON value (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if level <= METADATA_DEPTH_MAX:  # deeper is refused anyway: stop walking
                stack.extend((child, level + 1) for child in children)
    return deepest
