"""AI-doc ChatItems and refDocLists as the SDK's models read them."""

from __future__ import annotations

import uuid
from typing import Any

from alibabacloud_energyexpertexternal20220923 import models

from chatkeep.api.aidoc.answer_items import (
    ChatContext,
    StreamShard,
    chat_item,
    ref_doc_list,
    stream_shards,
)

DOC_A, DOC_B = uuid.uuid4(), uuid.uuid4()
CONTEXT = ChatContext("什么是公园?", 1747280158000, "f-1", "Default")
REFERENCES = [
    {"n": 1, "document_id": str(DOC_A), "document_name": "a.pdf", "page_start": 2, "page_end": 3},
    {"n": 2, "document_id": str(DOC_B), "document_name": "b.md", "page_start": None,
     "page_end": None},
    {"n": 3, "document_id": str(DOC_A), "document_name": "a.pdf", "page_start": 3, "page_end": 4},
]  # fmt: skip


def _url(document: uuid.UUID) -> str:
    return f"http://h/v1/documents/{document}/content?sig"


def test_ref_doc_list_groups_pages_by_document_in_citation_order() -> None:
    refs = ref_doc_list(REFERENCES, _url)
    assert [r["docName"] for r in refs] == ["a.pdf", "b.md"]
    assert [p["num"] for p in refs[0]["pageNum"]] == [2, 3, 4]
    assert refs[1]["pageNum"] == []
    assert refs[0]["docUrl"] == _url(DOC_A) == refs[0]["originDocUrl"]


def test_a_chat_item_reads_back_through_the_sdk_model() -> None:
    item = chat_item(CONTEXT, "公园是…[1]", ref_doc_list(REFERENCES, _url))
    parsed = models.ChatResponseBody().from_map({"requestId": "R", "data": item})
    assert parsed.data.question == "什么是公园?" and parsed.data.answer == "公园是…[1]"
    assert parsed.data.create_time == 1747280158000
    assert parsed.data.ref_doc_list[0].page_num[2].num == 4
    assert parsed.data.ref_doc_list[0].source_type == "doc"


def _shards(event: str, event_id: int, data: dict[str, Any]) -> list[StreamShard]:
    return stream_shards(event, event_id, data, context=CONTEXT, request_id="R", url=_url)


def test_stream_shards_first_references_then_deltas_then_an_error_event() -> None:
    [first] = _shards("references", 2, {"references": REFERENCES})
    assert first.data["data"]["answer"] == "" and len(first.data["data"]["refDocList"]) == 2
    [delta] = _shards("delta", 3, {"text": "公园"})
    assert delta.data == {"requestId": "R", "data": chat_item(CONTEXT, "公园", None)}
    assert delta.event is None and delta.id == 3
    assert _shards("done", 9, {"answer": {"status": "complete", "error": None}}) == []
    [cancelled] = _shards("done", 9, {"answer": {"status": "cancelled", "error": None}})
    assert cancelled.event == "error" and cancelled.data["code"] == "AnswerCancelled"
    [error] = _shards("error", 4, {"status": "failed", "reason": "timeout"})
    assert error.event == "error" and error.data["requestId"] == "R"
    assert "timeout" in error.data["data"]["answer"]


def test_each_unfinished_status_has_its_code_and_says_so_in_the_answer() -> None:
    for status, code in [
        ("failed", "AnswerFailed"), ("incomplete", "AnswerIncomplete"),
        ("cancelled", "AnswerCancelled"),
    ]:  # fmt: skip
        [error] = _shards("error", 5, {"status": status, "reason": None})
        assert error.data["code"] == code and error.data["message"]
        assert error.data["data"]["answer"].startswith(f"[answer {status}: ")
        parsed = models.ChatStreamResponseBody().from_map(error.data)
        assert parsed.request_id == "R" and parsed.data.answer == error.data["data"]["answer"]
