"""Opaque, signed keyset cursors.

A cursor carries the sort key of the last row of a page and a fingerprint of the query
that produced it, signed with the server key: a tampered cursor, or one replayed against
a different query (other filters, order or user), is refused rather than misread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from chatkeep.core.errors import InvalidArgument

_SIG_BYTES = 16
KeyValue = bool | int | str | datetime | uuid.UUID


class CursorCodec:
    def __init__(self, key: bytes) -> None:
        self._key = hashlib.sha256(b"chatkeep-cursor:" + key).digest()

    def encode(self, query_fingerprint: str, values: Sequence[KeyValue]) -> str:
        payload = orjson.dumps({"f": query_fingerprint, "k": [_tag(v) for v in values]})
        signature = hmac.digest(self._key, payload, "sha256")[:_SIG_BYTES]
        return f"{_b64(payload)}.{_b64(signature)}"

    def decode(self, cursor: str, query_fingerprint: str) -> tuple[KeyValue, ...]:
        try:
            body, sig = cursor.split(".", 1)
            payload, signature = _unb64(body), _unb64(sig)
        except ValueError:
            raise _invalid() from None
        expected = hmac.digest(self._key, payload, "sha256")[:_SIG_BYTES]
        if not hmac.compare_digest(signature, expected):
            raise _invalid()
        data = orjson.loads(payload)
        if data.get("f") != query_fingerprint:
            raise InvalidArgument("cursor", "the cursor belongs to a different query")
        return tuple(_untag(item) for item in data["k"])


def fingerprint(*parts: object) -> str:
    """A short stable digest of everything that defines a list query except its position."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _invalid() -> InvalidArgument:
    return InvalidArgument("cursor", "the cursor is malformed or has been altered")


def _tag(value: KeyValue) -> list[Any]:
    if isinstance(value, datetime):
        return ["d", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    return ["v", value]


def _untag(item: list[Any]) -> KeyValue:
    kind, value = item
    if kind == "d":
        return datetime.fromisoformat(value)
    if kind == "u":
        return uuid.UUID(value)
    return value  # type: ignore[no-any-return]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad base64") from exc
