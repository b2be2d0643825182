"""Chat and ChatStream over a real server in the test's loop: the paths that need a model
paused mid-answer (keep-alives, failures after the 200, a client that goes away).

The answer settings ping every 0.5 s here, so no test waits long; the SDK end-to-end
tests (test_chat_sdk_e2e.py) run the default, capped at 5 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from tests.answers.conftest import StartWorker
from tests.answers_support import Library, Script, Worker
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

CHAT = "/api/v2/aidoc/document/chat"
STREAM = "/api/v2/aidoc/document/chat/stream"
CHAT_LIST = "/api/v2/aidoc/document/chat/list"
WAIT_SECONDS = 30


async def _setup(node: Worker, library: Library) -> tuple[Key, str]:
    world = World(node.runtime)
    key = await world.key(await world.tenant())
    created = await world.session(key, title="geo")
    library.add(created.domain_id, "france.pdf", "Paris is the capital of France.", page=3)
    return key, str(created.uuid)


def _body(sid: str) -> dict[str, Any]:
    return {"sessionId": sid, "question": "What is the capital of France?"}


async def _pairs(client: httpx.AsyncClient, key: Key, sid: str) -> list[dict[str, Any]]:
    response = await client.post(CHAT_LIST, headers=key.headers, json={"sessionId": sid})
    assert response.status_code == 200, response.text
    pairs: list[dict[str, Any]] = response.json()["data"]["chatList"]
    return pairs


async def test_chat_keeps_a_silent_model_alive_with_spaces_before_the_json(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after = 1
    async with (
        node.client() as client,
        client.stream("POST", CHAT, headers=key.headers, json=_body(sid)) as response,
    ):
        assert response.status_code == 200
        assert "content-length" not in response.headers
        chunks = response.aiter_bytes()
        first = await anext(chunks)
        assert first.strip() == b""  # a keep-alive while the model is held
        script.gate.set()
        raw = first + b"".join([c async for c in chunks])
    assert raw.startswith(b" ")
    body = json.loads(raw)
    assert body["data"]["answer"] == "Paris is the capital [1]."
    assert body["data"]["refDocList"][0]["docName"] == "france.pdf"
    assert response.headers["x-acs-request-id"] == body["requestId"]


async def test_an_answer_failing_after_the_keep_alive_is_a_200_that_says_so(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after, script.mode = 1, "truncated"  # the provider breaks off mid-answer
    async with (
        node.client() as client,
        client.stream("POST", CHAT, headers=key.headers, json=_body(sid)) as response,
    ):
        chunks = response.aiter_bytes()
        first = await anext(chunks)
        script.gate.set()
        raw = first + b"".join([c async for c in chunks])
    assert response.status_code == 200
    body = json.loads(raw)
    assert body["code"] == "AnswerFailed" and body["message"]
    assert body["data"]["answer"].startswith("[answer failed: ")


async def test_the_stream_pings_while_the_model_is_silent_and_ends_after_the_answer(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after = 0
    lines: list[str] = []
    async with (
        node.client() as client,
        client.stream("POST", STREAM, headers=key.headers, json=_body(sid)) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        async for line in response.aiter_lines():
            lines.append(line)
            if line.startswith(":") and not script.gate.is_set():
                script.gate.set()
    assert ": ping" in lines
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert "".join(d["data"]["answer"] for d in data) == "Paris is the capital [1]."
    assert [line for line in lines if line.startswith("event: ")] == ["event: message"] * len(data)


async def test_the_answer_survives_a_chat_caller_that_goes_away(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after = 1
    async with node.client() as client:
        async with client.stream("POST", CHAT, headers=key.headers, json=_body(sid)) as response:
            assert (await anext(response.aiter_bytes())).strip() == b""  # kept alive: hang up
        script.gate.set()
        await _wait_for_answer(client, key, sid, "Paris is the capital [1].")


async def _wait_for_answer(client: httpx.AsyncClient, key: Key, sid: str, answer: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while (await _pairs(client, key, sid))[0]["answer"] != answer:
        assert time.monotonic() < deadline, await _pairs(client, key, sid)
        await asyncio.sleep(0.05)


async def test_the_answer_survives_a_stream_reader_that_goes_away(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after = 2
    async with node.client() as client:
        async with client.stream("POST", STREAM, headers=key.headers, json=_body(sid)) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and json.loads(line[6:])["data"]["answer"]:
                    break  # the first text arrived: hang up mid-answer
        script.gate.set()
        await _wait_for_answer(client, key, sid, "Paris is the capital [1].")
        [pair] = await _pairs(client, key, sid)
    assert pair["question"] == "What is the capital of France?"
    assert pair["refDocList"][0]["docName"] == "france.pdf"
    assert pair["refDocList"][0]["pageNum"] == [{"num": 3, "pos": []}]


async def test_a_second_question_while_one_is_answered_is_a_conflict_before_the_stream(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after = 0
    async with node.client() as client:
        async with client.stream("POST", STREAM, headers=key.headers, json=_body(sid)) as first:
            assert first.status_code == 200
            second = await client.post(CHAT, headers=key.headers, json=_body(sid))
            assert second.status_code == 409, second.text
            assert second.json()["code"] == "OperationConflict"
            script.gate.set()
            await first.aread()
        assert len(await _pairs(client, key, sid)) == 1


async def test_an_answer_cancelled_through_the_native_api_ends_the_stream_with_an_error(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    script.hold_after = 1
    data: list[dict[str, Any]] = []
    async with (
        node.client() as client,
        client.stream("POST", STREAM, headers=key.headers, json=_body(sid)) as response,
    ):
        lines = response.aiter_lines()
        async for line in lines:
            if line.startswith("data: "):
                data.append(json.loads(line[6:]))
                if data[-1]["data"]["answer"]:
                    break  # the first text: the model is now held
        listed = await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)
        answer_id = listed.json()["data"][1]["answer"]["id"]
        cancelled = await client.post(f"/v1/answers/{answer_id}/cancel", headers=key.headers)
        assert cancelled.json()["status"] == "cancelled"
        events = [line async for line in lines]
    assert "event: error" in events
    last = json.loads(next(line for line in reversed(events) if line.startswith("data: "))[6:])
    assert last["code"] == "AnswerCancelled"
    assert last["data"]["answer"].startswith("[answer cancelled: ")
