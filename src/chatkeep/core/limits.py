"""Documented size limits the core enforces whatever the interface (see README)."""

from __future__ import annotations

from typing import Any

import orjson

from chatkeep.core.errors import InvalidArgument
from chatkeep.core.models import NAME_MAX, TITLE_MAX

SYSTEM_CONTEXT_MAX = 65_536  # characters
METADATA_MAX_BYTES = 16_384  # serialised JSON
PAGE_MAX = 100


def check_title(title: str, field: str = "title") -> None:
    if len(title) > TITLE_MAX:
        raise InvalidArgument(field, f"must be at most {TITLE_MAX} characters")


def check_name(name: str, field: str = "name") -> None:
    if not name.strip():
        raise InvalidArgument(field, "must not be blank")
    if len(name) > NAME_MAX:
        raise InvalidArgument(field, f"must be at most {NAME_MAX} characters")


def check_system_context(text: str) -> None:
    if len(text) > SYSTEM_CONTEXT_MAX:
        raise InvalidArgument("system_context", f"must be at most {SYSTEM_CONTEXT_MAX} characters")


def check_metadata(metadata: dict[str, Any]) -> None:
    try:
        size = len(orjson.dumps(metadata))
    except orjson.JSONEncodeError:  # valid JSON in, but e.g. an integer past 64 bits
        raise InvalidArgument(
            "metadata", "must hold only integers that fit in 64 bits (use a string)"
        ) from None
    if size > METADATA_MAX_BYTES:
        raise InvalidArgument("metadata", f"must serialise to at most {METADATA_MAX_BYTES} bytes")


def check_limit(limit: int) -> None:
    if not 1 <= limit <= PAGE_MAX:
        raise InvalidArgument("limit", f"must be between 1 and {PAGE_MAX}")
