"""AISquare's chat stream over real servers (uvicorn on loopback), a scripted provider and
both databases: the frames docs/aisquare.md promises, keep-alive, re-attach and cancel."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from chatkeep.core.types import SessionRecord
from tests.answers.conftest import StartWorker
from tests.answers_support import Library, Script, Worker
from tests.api.aisquare.chat_stream_support import (
    STREAM,
    FrameReader,
    ask,
    by_type,
    read_frames,
    tokens,
    types,
)
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

PARIS = "Paris is the capital of France and its largest city."
ROME = "Rome is the capital of Italy."
QUESTION = "What is the capital of France?"


async def _setup(node: Worker, library: Library, **session: Any) -> tuple[Key, SessionRecord]:
    world = World(node.runtime)
    key = await world.key(await world.tenant())
    created = await world.session(key, **session)
    library.add(created.domain_id, "france.pdf", PARIS, page=3)
    library.add(created.domain_id, "italy.pdf", ROME, page=7)
    return key, created


async def test_tokens_stream_in_order_then_complete_metadata_end(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client:
        async with ask(client, key, session.id, QUESTION) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"] == "no-cache"
            frames = await read_frames(response)
        messages = (await client.get(f"/api/v1/qllm/chat-sessions/{session.id}/messages/",
                                     headers=key.headers)).json()  # fmt: skip
    # Tokens are the stored deltas (the engine batches what the model sends quickly).
    kinds = types(frames)
    assert kinds[0] == "start" and kinds[-3:] == ["complete", "metadata", "end"]
    assert kinds[1:-3] and set(kinds[1:-3]) == {"token"}
    assert tokens(frames) == "Paris is the capital [1]."
    # One JSON object per data line, no `event:` lines (EventSource.onmessage sees all).
    assert all(line.split(": ")[0] in ("id", "data") for f in frames for line in f.lines)
    start = frames[0].data
    answer_id = start["answer_id"]
    user_id, assistant_id = messages[0]["id"], messages[1]["id"]
    assert start == {"type": "start", "session_id": session.id, "answer_id": answer_id,
                     "user_message_id": user_id}  # fmt: skip
    # Ids: the start, every token, and only the last frame of the finishing group.
    ids = [f.id for f in frames]
    assert ids[0] == 1 and ids[-3:-1] == [None, None] and ids[-1] is not None
    assert ids[1:-3] == sorted(ids[1:-3]) and ids[-1] > ids[-4]  # type: ignore[operator]
    assert by_type(frames, "complete") == {"type": "complete", "status": "complete",
                                           "content": "Paris is the capital [1].",
                                           "message_id": assistant_id}  # fmt: skip
    metadata = by_type(frames, "metadata")
    assert metadata["session_id"] == session.id and metadata["answer_id"] == answer_id
    assert (metadata["message_id"], metadata["user_message_id"]) == (assistant_id, user_id)
    assert metadata["model"] == "scripted-model"
    assert metadata["usage"] == {"prompt_tokens": 42, "completion_tokens": 4}
    assert metadata["suggested_title"] == QUESTION  # the session is untitled
    assert frames[-1].data == {"type": "end"}
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", QUESTION), ("assistant", "Paris is the capital [1]."),
    ]  # fmt: skip


async def test_metadata_references_name_documents_with_signed_links(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, session = await _setup(node, library, title="Geography")
    async with node.client() as client, ask(client, key, session.id, QUESTION) as response:
        metadata = by_type(await read_frames(response), "metadata")
    assert metadata["suggested_title"] is None  # the session has a title
    refs = metadata["references"]
    assert [(r["n"], r["document_name"], r["page_start"], r["cited"]) for r in refs] == [
        (1, "france.pdf", 3, True), (2, "italy.pdf", 7, False),
    ]  # fmt: skip
    for ref in refs:
        assert set(ref) >= {"chunk_id", "document_id", "page_end", "char_start", "char_end",
                            "heading_path", "score", "text", "url"}  # fmt: skip
        url = urlsplit(ref["url"])
        assert f"{url.scheme}://{url.netloc}" == node.url
        assert url.path == f"/v1/document-links/{ref['document_id']}" and url.query


async def test_a_chinese_answer_streams_whole_characters(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.tokens = ["巴黎", "是", "法国的", "首都", "[1]。"]
    node = await start_worker()
    key, session = await _setup(node, library)
    # The library matches whitespace-separated words, so the prompt shares one.
    library.add(session.domain_id, "法国.pdf", "巴黎 是 法国 的首都。")
    prompt = "巴黎 是哪个国家的首都？\n请简短回答。"  # noqa: RUF001
    async with node.client() as client, ask(client, key, session.id, prompt) as response:
        frames = await read_frames(response)
    assert tokens(frames) == "巴黎是法国的首都[1]。"
    assert by_type(frames, "complete")["content"] == "巴黎是法国的首都[1]。"
    assert by_type(frames, "metadata")["suggested_title"] == "巴黎 是哪个国家的首都？"  # noqa: RUF001


async def test_a_long_answer_arrives_whole_and_in_order(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.tokens = [f"word{n} " for n in range(3000)]
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client, ask(client, key, session.id, QUESTION) as response:
        frames = await read_frames(response)
    expected = "".join(script.tokens)
    assert tokens(frames) == expected
    assert by_type(frames, "complete")["content"] == expected
    assert types(frames)[-3:] == ["complete", "metadata", "end"]


async def test_a_model_that_thinks_is_kept_alive_by_pings(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 0  # the provider says nothing until the gate opens
    node = await start_worker(answer_ping_seconds=0.1)
    key, session = await _setup(node, library)
    async with node.client() as client, ask(client, key, session.id, QUESTION) as response:
        reader = FrameReader(response)
        before = await reader.read(pings=5)  # the model is still "thinking"
        assert types(before) == ["start"] and reader.pings == 5
        script.gate.set()
        after = await reader.read()
    assert tokens(after) == "Paris is the capital [1]."
    assert types(after)[-3:] == ["complete", "metadata", "end"]


async def test_reattach_mid_answer_from_another_worker(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 2
    first, second = await start_worker(), await start_worker()
    key, session = await _setup(first, library)
    async with first.client() as client, ask(client, key, session.id, QUESTION) as response:
        seen = await FrameReader(response).read(stop_after="token")
    # The connection is gone; the answer goes on in the first worker.
    answer_id, last = seen[0].data["answer_id"], seen[-1].id
    path = f"{STREAM}/{session.id}/{answer_id}/"
    async with second.client() as client:
        headers = {**key.headers, "Last-Event-ID": str(last)}
        async with client.stream("GET", path, headers=headers) as again:
            assert again.status_code == 200
            script.gate.set()
            rest = await read_frames(again)
        # From the start, the finished answer replays the same frames.
        async with client.stream("GET", path, headers=key.headers) as replay:
            whole = await read_frames(replay)
        # After the last id there is nothing more to send.
        headers = {**key.headers, "Last-Event-ID": str(whole[-1].id)}
        async with client.stream("GET", path, headers=headers) as done:
            assert done.status_code == 200 and await read_frames(done) == []
    assert tokens(seen + rest) == "Paris is the capital [1]."
    assert "start" not in types(rest) and types(rest)[-3:] == ["complete", "metadata", "end"]
    assert [f.data for f in whole] == [f.data for f in seen + rest]
    assert by_type(rest, "metadata")["suggested_title"] == QUESTION


async def test_cancel_stops_the_answer_and_keeps_what_was_written(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 1
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client, ask(client, key, session.id, QUESTION) as response:
        reader = FrameReader(response)
        seen = await reader.read(stop_after="token")
        answer_id = seen[0].data["answer_id"]
        cancelled = await client.post(f"{STREAM}/{session.id}/{answer_id}/cancel/",
                                      headers=key.headers)  # fmt: skip
        rest = await reader.read()
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body == {"answer_id": answer_id, "session_id": session.id, "status": "cancelled",
                    "content": "Paris ", "message_id": body["message_id"],
                    "user_message_id": seen[0].data["user_message_id"], "error": None}  # fmt: skip
    assert types(rest) == ["complete", "metadata", "end"]
    assert by_type(rest, "complete")["status"] == "cancelled"
    assert by_type(rest, "complete")["content"] == "Paris "


async def test_a_failed_answer_ends_with_an_error_frame(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.mode = "http500"
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client, ask(client, key, session.id, QUESTION) as response:
        assert response.status_code == 200
        frames = await read_frames(response)
    assert types(frames) == ["start", "error", "end"]
    error = frames[1].data
    assert error["status"] == "failed" and error["answer_id"] == frames[0].data["answer_id"]
    assert error["detail"]
    assert [f.id for f in frames][1:] == [None, frames[-1].id] and frames[-1].id is not None


async def test_an_idempotent_retry_reattaches_to_the_same_answer(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client:
        async with ask(client, key, session.id, QUESTION, **{"Idempotency-Key": "k1"}) as r:
            first = await read_frames(r)
        async with ask(client, key, session.id, QUESTION, **{"Idempotency-Key": "k1"}) as r:
            again = await read_frames(r)
        messages = (await client.get(f"/api/v1/qllm/chat-sessions/{session.id}/messages/",
                                     headers=key.headers)).json()  # fmt: skip
    assert [f.data for f in again] == [f.data for f in first]
    assert len(messages) == 2


async def test_asking_while_an_answer_runs_is_409(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 1
    node = await start_worker()
    key, session = await _setup(node, library)
    async with node.client() as client, ask(client, key, session.id, QUESTION) as response:
        await FrameReader(response).read(stop_after="token")
        second = await client.post(f"{STREAM}/{session.id}/", headers=key.headers,
                                   json={"prompt": "And Italy?"})  # fmt: skip
        script.gate.set()
    assert second.status_code == 409 and set(second.json()) == {"detail"}
