"""The seed's contract as test helpers: its schema (a fixture file), paths and credentials."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.factories import Key

LIST = "/api/v1/qllm/chat-sessions/"
SCHEMA: dict[str, Any] = json.loads((Path(__file__).parent / "seed_schema.json").read_text())

_TYPES: dict[str, type | tuple[type, ...]] = {"integer": int, "string": str, "boolean": bool}


def detail_path(session_id: int) -> str:
    return f"{LIST}{session_id}/"


def messages_path(session_id: int) -> str:
    return f"{LIST}{session_id}/messages/"


def token_headers(key: Key) -> dict[str, str]:
    """DRF's ``Authorization: Token ...`` form of the same key."""
    return {"Authorization": f"Token {key.key}"}


def assert_seed_shape(item: Any) -> None:
    """Every required key, every declared type and format, nothing the seed does not list."""
    assert isinstance(item, dict), item
    properties: dict[str, dict[str, str]] = SCHEMA["properties"]
    assert set(SCHEMA["required"]) <= item.keys(), item
    assert set(item) == set(properties), f"fields differ from the seed: {sorted(item)}"
    for name, spec in properties.items():
        value = item[name]
        expected = _TYPES[spec["type"]]
        assert isinstance(value, expected), (name, value)
        if spec["type"] == "integer":
            assert not isinstance(value, bool), (name, value)
        if spec.get("format") == "uuid":
            assert str(uuid.UUID(value)) == value, (name, value)
    assert_utc_timestamp(item["last_message_at"])


def assert_utc_timestamp(value: str) -> datetime:
    """ISO-8601 in UTC, written the way DRF writes it (a trailing ``Z``)."""
    assert value.endswith("Z"), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None and parsed.utcoffset() == UTC.utcoffset(None)
    return parsed
