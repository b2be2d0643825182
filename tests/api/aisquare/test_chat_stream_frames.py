"""The AISquare chat-stream frames chatkeep promises in docs/aisquare.md."""

from __future__ import annotations

from typing import Any

from chatkeep.api.aisquare.chat_stream_frames import frames_for, suggest_title

ANSWER: dict[str, Any] = {
    "id": "a1", "session_id": "s", "question_message_id": 10, "message_id": 11,
    "status": "complete", "content": "Parks are green [1].", "model": "m",
    "usage": {"prompt_tokens": 5, "completion_tokens": 4},
    "references": [{"n": 1, "document_name": "parks.md", "cited": True}],
}  # fmt: skip


def test_a_question_starts_the_stream_with_its_ids() -> None:
    [frame] = frames_for("question", 1, {"answer_id": "a1", "question": {"id": 10}}, session_id=5)
    assert frame.data == {"type": "start", "session_id": 5, "answer_id": "a1",
                          "user_message_id": 10}  # fmt: skip
    assert frame.id == 1


def test_deltas_are_tokens_and_references_wait_for_metadata() -> None:
    assert [f.data for f in frames_for("delta", 3, {"text": "Par"}, session_id=5)] == [
        {"type": "token", "content": "Par"}
    ]
    assert frames_for("references", 2, {"references": []}, session_id=5) == []


def test_done_is_complete_metadata_end_with_the_id_on_the_last_frame_only() -> None:
    frames = frames_for("done", 9, {"answer": ANSWER}, session_id=5, suggested_title="Parks")
    assert [f.data["type"] for f in frames] == ["complete", "metadata", "end"]
    assert [f.id for f in frames] == [None, None, 9]
    assert frames[0].data == {"type": "complete", "status": "complete",
                              "content": "Parks are green [1].", "message_id": 11}  # fmt: skip
    metadata = frames[1].data
    assert (metadata["message_id"], metadata["user_message_id"]) == (11, 10)
    assert metadata["references"] == ANSWER["references"]
    assert metadata["suggested_title"] == "Parks"


def test_an_error_is_an_error_frame_then_end() -> None:
    data = {"answer_id": "a1", "status": "failed", "reason": "provider timed out"}
    frames = frames_for("error", 4, data, session_id=5)
    assert [f.data for f in frames] == [
        {"type": "error", "status": "failed", "detail": "provider timed out", "answer_id": "a1"},
        {"type": "end"},
    ]
    assert [f.id for f in frames] == [None, 4]


def test_a_suggested_title_is_the_first_line_cut_at_a_word() -> None:
    assert suggest_title("  What is   a park?\nmore") == "What is a park?"
    assert suggest_title("\n  ") is None
    long = "word " * 30
    title = suggest_title(long)
    assert title is not None and title.endswith("…") and len(title) <= 61
    assert not title[:-1].endswith(" ")
    assert suggest_title("公园" * 40) == "公园" * 30 + "…"


def test_each_reference_gets_the_link_of_its_document() -> None:
    answer = {**ANSWER, "references": [{"n": 1, "document_id": "d1", "cited": True}]}
    frames = frames_for("done", 9, {"answer": answer}, session_id=5,
                        link=lambda doc: f"https://h/v1/document-links/{doc}?sig")  # fmt: skip
    assert frames[1].data["references"] == [
        {"n": 1, "document_id": "d1", "cited": True, "url": "https://h/v1/document-links/d1?sig"}
    ]
    assert answer["references"][0].keys() == {"n", "document_id", "cited"}  # not changed
