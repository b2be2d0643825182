"""One stored answer, whichever dialect asked: asked in AISquare's chat stream, it reads the
same through the native API and AI-doc's GetChatList; asked natively, it reads the same in
AISquare's messages; asked through AI-doc's Chat, it reads the same in the other two."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.answers.conftest import StartWorker
from tests.answers_support import Library, Worker, read_events
from tests.api.aisquare.chat_stream_support import ask, by_type, read_frames, tokens
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

PARIS = "Paris is the capital of France and its largest city."
QUESTION = "What is the capital of France?"
ANSWER = "Paris is the capital [1]."


async def _setup(node: Worker, library: Library) -> tuple[Key, Any]:
    world = World(node.runtime)
    key = await world.key(await world.tenant())
    session = await world.session(key, title="geo")
    library.add(session.domain_id, "france.pdf", PARIS, page=3)
    return key, session


async def _chat_list(client: httpx.AsyncClient, key: Key, session_uuid: str) -> dict[str, Any]:
    response = await client.post(
        "/api/v2/aidoc/document/chat/list",
        headers=key.headers,
        json={"sessionId": session_uuid, "pageSize": 10},
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_asked_in_aisquare_reads_the_same_in_native_and_aidoc(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client:
        async with ask(client, key, session.id, QUESTION) as response:
            frames = await read_frames(response)
        metadata = by_type(frames, "metadata")
        answer = (await client.get(f"/v1/answers/{metadata['answer_id']}",
                                   headers=key.headers)).json()  # fmt: skip
        native = (await client.get(f"/v1/sessions/{session.uuid}/messages",
                                   headers=key.headers)).json()["data"]  # fmt: skip
        chats = await _chat_list(client, key, str(session.uuid))
    assert tokens(frames) == ANSWER
    assert answer["status"] == "complete" and answer["content"] == ANSWER
    assert answer["session_id"] == str(session.uuid)
    assert (answer["message_id"], answer["question_message_id"]) == (
        metadata["message_id"], metadata["user_message_id"],
    )  # fmt: skip
    # The same references, the AISquare frame adding only each one's signed link.
    assert [{k: v for k, v in r.items() if k != "url"} for r in metadata["references"]] == (
        answer["references"]
    )
    assert [(m["id"], m["role"], m["content"]) for m in native] == [
        (metadata["user_message_id"], "user", QUESTION),
        (metadata["message_id"], "assistant", ANSWER),
    ]
    assert native[1]["answer"]["id"] == metadata["answer_id"]
    assert chats["total"] == 1
    [pair] = chats["chatList"]
    assert (pair["question"], pair["answer"]) == (QUESTION, ANSWER)
    # AI-doc's refDocList is built from the same references, grouped by document.
    assert [(d["docName"], [p["num"] for p in d["pageNum"]]) for d in pair["refDocList"]] == [
        ("france.pdf", [3])
    ]


async def test_asked_natively_reads_the_same_in_aisquare(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client:
        async with client.stream(
            "POST",
            f"/v1/sessions/{session.uuid}/answers",
            headers=key.headers,
            json={"question": QUESTION},
        ) as response:
            events = await read_events(response)  # fmt: skip
        done = events[-1].data["answer"]
        listed = (await client.get(f"/api/v1/qllm/chat-sessions/{session.id}/messages/",
                                   headers=key.headers)).json()  # fmt: skip
        # Re-attaching through AISquare to the natively asked answer replays it as frames.
        path = f"/api/v1/qllm/chat-stream/{session.id}/{done['id']}/"
        async with client.stream("GET", path, headers=key.headers) as replay:
            frames = await read_frames(replay)
    assert [(m["id"], m["session_id"], m["role"], m["content"]) for m in listed] == [
        (done["question_message_id"], session.id, "user", QUESTION),
        (done["message_id"], session.id, "assistant", ANSWER),
    ]
    assert tokens(frames) == ANSWER
    assert by_type(frames, "metadata")["answer_id"] == done["id"]


async def test_asked_in_aidoc_chat_reads_the_same_in_native_and_aisquare(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client:
        chat = await client.post(
            "/api/v2/aidoc/document/chat", headers=key.headers,
            json={"sessionId": str(session.uuid), "question": QUESTION},
        )  # fmt: skip
        native = (await client.get(f"/v1/sessions/{session.uuid}/messages",
                                   headers=key.headers)).json()["data"]  # fmt: skip
        listed = (await client.get(f"/api/v1/qllm/chat-sessions/{session.id}/messages/",
                                   headers=key.headers)).json()  # fmt: skip
        chats = await _chat_list(client, key, str(session.uuid))
    assert chat.status_code == 200, chat.text
    item = chat.json()["data"]
    assert (item["question"], item["answer"]) == (QUESTION, ANSWER)
    assert [(m["role"], m["content"]) for m in native] == [
        ("user", QUESTION), ("assistant", ANSWER),
    ]  # fmt: skip
    answer_id = native[1]["answer"]["id"]
    answer = await _native_answer(node, key, answer_id)
    assert answer["status"] == "complete" and answer["content"] == ANSWER
    assert [(m["id"], m["role"], m["content"]) for m in listed] == [
        (native[0]["id"], "user", QUESTION), (native[1]["id"], "assistant", ANSWER),
    ]  # fmt: skip
    [pair] = chats["chatList"]
    assert pair["createTime"] == item["createTime"]
    assert [d["docName"] for d in pair["refDocList"]] == [d["docName"] for d in item["refDocList"]]
    assert [d["docName"] for d in item["refDocList"]] == ["france.pdf"]


async def _native_answer(node: Worker, key: Key, answer_id: str) -> dict[str, Any]:
    async with node.client() as client:
        response = await client.get(f"/v1/answers/{answer_id}", headers=key.headers)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
