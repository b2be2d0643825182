"""Native answers over real servers, a scripted provider and both databases."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.answers.conftest import StartWorker
from tests.answers_support import EventReader, Library, Script, Worker, read_events, text_of
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

PARIS = "Paris is the capital of France and its largest city."
ROME = "Rome is the capital of Italy."


async def _setup(worker: Worker, library: Library, **session: Any) -> tuple[Key, str]:
    world = World(worker.runtime)
    tenant = await world.tenant()
    key = await world.key(tenant)
    created = await world.session(key, title="geo", **session)
    library.add(created.domain_id, "france.pdf", PARIS, page=3)
    library.add(created.domain_id, "italy.pdf", ROME, page=7)
    return key, str(created.uuid)


async def _ask(
    client: httpx.AsyncClient, key: Key, sid: str, question: str = "What is the capital of France?",
    **body: Any,
) -> httpx.Response:  # fmt: skip
    return await client.post(
        f"/v1/sessions/{sid}/answers", headers=key.headers, json={"question": question, **body}
    )


async def test_answer_streams_cites_and_is_stored(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library, system_context="Answer briefly.")
    async with node.client() as client:
        async with client.stream(
            "POST",
            f"/v1/sessions/{sid}/answers",
            headers=key.headers,
            json={"question": "What is the capital of France?"},
        ) as resp:
            assert resp.status_code == 200
            assert resp.headers["content-type"].startswith("text/event-stream")
            events = await read_events(resp)
        types = [e.type for e in events]
        assert types[0] == "question" and types[1] == "references" and types[-1] == "done"
        assert set(types[2:-1]) == {"delta"}
        assert [e.id for e in events] == list(range(1, len(events) + 1))
        assert text_of(events) == "Paris is the capital [1]."
        answer = events[-1].data["answer"]
        assert answer["status"] == "complete" and answer["content"] == text_of(events)
        assert answer["usage"] == {"prompt_tokens": 42, "completion_tokens": 4}
        assert answer["model"] == "scripted-model"
        refs = answer["references"]
        assert [(r["n"], r["document_name"], r["page_start"], r["cited"]) for r in refs] == [
            (1, "france.pdf", 3, True), (2, "italy.pdf", 7, False),
        ]  # fmt: skip
        assert events[0].data["question"]["content"] == "What is the capital of France?"
        stored = (await client.get(f"/v1/answers/{answer['id']}", headers=key.headers)).json()
        assert stored == answer
        listed = (await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)).json()
    roles = [(m["role"], m["content"]) for m in listed["data"]]
    assert roles == [("user", "What is the capital of France?"), ("assistant", answer["content"])]
    assert listed["data"][0]["answer"] is None
    assert listed["data"][1]["answer"]["id"] == answer["id"]
    assert listed["data"][1]["answer"]["status"] == "complete"
    prompt = script.requests[0]["messages"]
    assert prompt[0]["role"] == "system" and "[1] (france.pdf, page 3)" in prompt[0]["content"]
    assert "Answer briefly." in prompt[0]["content"] and "[n]" in prompt[0]["content"]
    assert prompt[-1] == {"role": "user", "content": "What is the capital of France?"}


async def test_stream_false_returns_the_finished_answer(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    async with node.client() as client:
        response = await _ask(client, key, sid, stream=False)
    assert response.status_code == 200
    assert response.json()["status"] == "complete"
    assert response.json()["content"] == "Paris is the capital [1]."


async def test_reattach_from_a_second_worker_after_a_dropped_connection(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 2  # the provider pauses mid-answer until the gate opens
    first, second = await start_worker(), await start_worker()
    key, sid = await _setup(first, library)
    async with (
        first.client() as client,
        client.stream(
            "POST",
            f"/v1/sessions/{sid}/answers",
            headers=key.headers,
            json={"question": "capital of France?"},
        ) as resp,
    ):
        seen = await EventReader(resp).read(stop_after="delta")
        # The connection is gone; generation goes on in the first worker.
    answer_id = seen[0].data["answer_id"]
    async with second.client() as client:
        headers = {**key.headers, "Last-Event-ID": str(seen[-1].id)}
        async with client.stream("GET", f"/v1/answers/{answer_id}/events", headers=headers) as r:
            assert r.status_code == 200
            script.gate.set()
            rest = await read_events(r)
    assert [e.id for e in seen + rest] == list(range(1, len(seen) + len(rest) + 1))
    assert text_of(seen + rest) == "Paris is the capital [1]."
    assert rest[-1].type == "done" and rest[-1].data["answer"]["status"] == "complete"


async def test_replay_with_after_gives_the_same_events(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    async with node.client() as client:
        done = (await _ask(client, key, sid, stream=False)).json()
        async with client.stream("GET", f"/v1/answers/{done['id']}/events?after=1",
                                 headers=key.headers) as resp:  # fmt: skip
            events = await read_events(resp)
    assert events[0].id == 2 and events[0].type == "references"
    assert text_of(events) == done["content"]


async def test_cancel_from_another_worker_keeps_the_partial_answer(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 2
    first, second = await start_worker(), await start_worker()
    key, sid = await _setup(first, library)
    async with (
        first.client() as client,
        client.stream(
            "POST",
            f"/v1/sessions/{sid}/answers",
            headers=key.headers,
            json={"question": "capital of France?"},
        ) as resp,
    ):
        reader = EventReader(resp)
        seen = await reader.read(stop_after="delta")
        answer_id = seen[0].data["answer_id"]
        async with second.client() as other:
            cancelled = await other.post(f"/v1/answers/{answer_id}/cancel", headers=key.headers)
        rest = await reader.read()
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["status"] == "cancelled"
    assert body["content"] and "Paris is the capital [1].".startswith(body["content"])
    assert rest[-1].type == "done" and rest[-1].data["answer"]["status"] == "cancelled"


async def test_regenerate_keeps_the_earlier_answer_as_an_alternative(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    async with node.client() as client:
        first = (await _ask(client, key, sid, stream=False)).json()
        script.tokens = ["Again: ", "Paris [1]."]
        again = await client.post(f"/v1/answers/{first['id']}/regenerate", headers=key.headers,
                                  json={"stream": False})  # fmt: skip
        assert again.status_code == 200
        second = again.json()
        assert second["content"] == "Again: Paris [1]."
        assert second["question_message_id"] == first["question_message_id"]
        assert second["alternatives"] == [second["id"], first["id"]]
        earlier = (await client.get(f"/v1/answers/{first['id']}", headers=key.headers)).json()
        assert earlier["content"] == first["content"] and earlier["status"] == "complete"
        listed = (await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)).json()
    answers = [m["answer"] for m in listed["data"] if m["role"] == "assistant"]
    assert [a["alternatives"] for a in answers] == [[second["id"], first["id"]]] * 2


async def test_an_idempotent_retry_reattaches_to_the_same_answer(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    headers = {**key.headers, "Idempotency-Key": "ask-1"}
    body = {"question": "capital of France?", "stream": False}
    async with node.client() as client:
        url = f"/v1/sessions/{sid}/answers"
        first = (await client.post(url, headers=headers, json=body)).json()
        retried = await client.post(url, headers=headers, json=body)
        listed = (await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)).json()
        other = await client.post(url, headers=headers, json={**body, "question": "different"})
    assert retried.status_code == 200 and retried.json()["id"] == first["id"]
    assert len(listed["data"]) == 2 and len(script.requests) == 1
    assert other.status_code == 422


async def test_a_second_question_while_one_runs_is_409_and_the_cap_is_429(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 1
    node = await start_worker(answer_max_running_per_credential=1)
    key, sid = await _setup(node, library)
    world = World(node.runtime)
    other_sid = str((await world.session(key, title="other")).uuid)
    async with node.client() as client:
        async with client.stream(
            "POST",
            f"/v1/sessions/{sid}/answers",
            headers=key.headers,
            json={"question": "capital of France?"},
        ) as resp:
            reader = EventReader(resp)
            await reader.read(stop_after="question")
            busy = await _ask(client, key, sid)
            capped = await _ask(client, key, other_sid)
            script.gate.set()
            await reader.read()
        after = await _ask(client, key, sid, stream=False)
    assert busy.status_code == 409
    assert busy.headers["content-type"] == "application/problem+json"
    assert capped.status_code == 429 and capped.headers["retry-after"] == "1"
    assert after.status_code == 200


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("http429", "rate_limited"), ("http500", "unavailable"), ("garbage", "bad_response"),
        ("slow", "timeout"), ("truncated", "bad_response"),
    ],
)  # fmt: skip
async def test_provider_failures_end_the_answer_failed_with_a_reason(
    start_worker: StartWorker, library: Library, script: Script, mode: str, reason: str
) -> None:
    script.mode = mode
    node = await start_worker()
    key, sid = await _setup(node, library)
    async with node.client() as client:
        async with client.stream(
            "POST",
            f"/v1/sessions/{sid}/answers",
            headers=key.headers,
            json={"question": "capital of France?"},
        ) as resp:
            events = await read_events(resp)
        assert events[-1].type == "error"
        assert events[-1].data["status"] == "failed"
        assert events[-1].data["reason"].startswith(reason)
        stored = (await client.get(f"/v1/answers/{events[0].data['answer_id']}",
                                   headers=key.headers)).json()  # fmt: skip
        listed = (await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)).json()
    assert stored["status"] == "failed" and stored["error"].startswith(reason)
    assert listed["data"][0]["content"] == "capital of France?"  # the question survives


async def test_a_provider_that_is_down_fails_the_answer(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker(llm_base_url="http://127.0.0.1:9/v1")  # nothing listens
    key, sid = await _setup(node, library)
    async with node.client() as client:
        answer = (await _ask(client, key, sid, stream=False)).json()
    assert answer["status"] == "failed" and answer["error"].startswith("unavailable")


async def test_no_relevant_passage_says_so_without_asking_the_model(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    async with node.client() as client:
        answer = (await _ask(client, key, sid, "zebra migration routes", stream=False)).json()
    assert answer["status"] == "complete" and answer["references"] == []
    assert answer["content"] == node.runtime.settings.answer_no_passage_text
    assert script.requests == []


async def test_named_documents_scope_retrieval(start_worker: StartWorker, library: Library) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    rome = next(c for cs in library.passages.values() for c in cs if c.text == ROME)
    async with node.client() as client:
        answer = (
            await _ask(
                client,
                key,
                sid,
                "capital of Italy?",
                document_ids=[str(rome.document_id)],
                stream=False,
            )
        ).json()
        missing = (await _ask(client, key, sid, "capital?",
                              document_ids=[str(uuid.uuid4())], stream=False)).json()  # fmt: skip
    assert [r["document_name"] for r in answer["references"]] == ["italy.pdf"]
    assert library.queries[0].document_ids == [rome.document_id]
    assert missing["status"] == "failed" and "not found" in missing["error"]


async def test_errors_before_the_stream_are_problem_json(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    world = World(node.runtime)
    stranger = await world.key(await world.tenant())
    async with node.client() as client:
        foreign = await _ask(client, stranger, sid)
        empty = await _ask(client, key, sid, "")
        unknown = await client.get(f"/v1/answers/{uuid.uuid4()}/events", headers=key.headers)
        bad_id = await client.get(f"/v1/answers/{uuid.uuid4()}/events",
                                  headers={**key.headers, "Last-Event-ID": "x"})  # fmt: skip
    assert foreign.status_code == 404 and unknown.status_code == 404
    assert empty.status_code == 422 and bad_id.status_code == 422
    for response in (foreign, empty, unknown, bad_id):
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_slow_reader_gets_pings_and_every_event(
    start_worker: StartWorker, library: Library, script: Script
) -> None:
    script.hold_after = 1
    node = await start_worker(answer_ping_seconds=0.1)
    key, sid = await _setup(node, library)
    async with (
        node.client() as client,
        client.stream(
            "POST",
            f"/v1/sessions/{sid}/answers",
            headers=key.headers,
            json={"question": "capital of France?"},
        ) as resp,
    ):
        reader = EventReader(resp)
        first = await reader.read(stop_after="delta")
        assert await reader.read(pings=2) == []  # paused: only keep-alives arrive
        script.gate.set()
        rest = await reader.read()
    assert text_of(first + rest) == "Paris is the capital [1]."
    assert rest[-1].type == "done"


async def test_reattaching_at_or_past_the_last_event_ends_or_is_refused(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    key, sid = await _setup(node, library)
    async with node.client() as client:
        done = (await _ask(client, key, sid, stream=False)).json()
        events = f"/v1/answers/{done['id']}/events"
        async with client.stream("GET", events, headers=key.headers) as resp:
            last = (await read_events(resp))[-1].id
        async with client.stream("GET", f"{events}?after={last}", headers=key.headers) as resp:
            assert resp.status_code == 200 and await read_events(resp) == []
        past = await client.get(events, headers={**key.headers, "Last-Event-ID": str(last + 1)})
    assert past.status_code == 422
    assert past.json()["errors"][0]["field"] == "Last-Event-ID"
