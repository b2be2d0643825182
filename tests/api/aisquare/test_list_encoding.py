"""The short list's plain-dict encoding is byte for byte the documented model's JSON."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson
import pytest

from chatkeep.api.aisquare.schemas import ChatSessionOut
from chatkeep.api.aisquare.sessions import chat_session_item
from chatkeep.core.types import SessionRecord


def _record(**overrides: object) -> SessionRecord:
    fields: dict[str, object] = {
        "id": 7, "uuid": uuid.uuid4(), "owner_pk": 1, "user_id": "12222", "domain_id": uuid.uuid4(),
        "domain_name": "Défaut \"quoted\" \\ \u2028", "title": "标题 \x01 tab\t",
        "system_context": "be brief", "is_pinned": True, "pinned_at": None, "archived": False,
        "created_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "updated_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
        "last_message_at": None, "message_count": 0, "metadata": {},
    }  # fmt: skip
    fields.update(overrides)
    return SessionRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "record",
    [
        _record(),
        _record(last_message_at=datetime(2025, 6, 7, 8, 9, 10, 123456, tzinfo=UTC)),
        _record(last_message_at=datetime(2025, 6, 7, 8, 9, 10, 500000, tzinfo=UTC)),
        _record(id=2**63 - 1, is_pinned=False, title="", system_context=""),
    ],
)
def test_the_dict_encodes_exactly_as_the_model(record: SessionRecord) -> None:
    model = ChatSessionOut.of(record)
    expected = model.__pydantic_serializer__.to_json(model)
    assert orjson.dumps(chat_session_item(record), option=orjson.OPT_UTC_Z) == expected
