"""The chat stream's refusals, over a real server: DRF-style bodies before any stream
starts, and nothing stored by a refused request."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from chatkeep.api.aisquare.schemas import PROMPT_MAX
from chatkeep.core.models import Answer, Message
from chatkeep.core.types import SessionRecord
from tests.answers.conftest import StartWorker
from tests.answers_support import Library, Worker
from tests.api.aisquare.chat_stream_support import STREAM, read_frames
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

NOT_FOUND = {"detail": "Chat session not found"}


async def _setup(node: Worker) -> tuple[World, Key, SessionRecord]:
    world = World(node.runtime)
    key = await world.key(await world.tenant())
    return world, key, await world.session(key)


async def _stored(world: World) -> tuple[int, int]:
    """Messages and answers in the whole database."""

    async def count(uow: Any) -> tuple[int, int]:
        messages = await uow.db.scalar(select(func.count()).select_from(Message))
        answers = await uow.db.scalar(select(func.count()).select_from(Answer))
        return int(messages), int(answers)

    result: tuple[int, int] = await world.run(count, write=False)
    return result


async def _post(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], content: bytes | None
) -> httpx.Response:
    headers = {**headers, "Content-Type": "application/json"}
    return await client.post(path, headers=headers, content=content)


BAD_BODIES: list[tuple[bytes | None, int, dict[str, Any]]] = [
    (None, 400, {"prompt": ["This field is required."]}),
    (b"{}", 400, {"prompt": ["This field is required."]}),
    (b'{"prompt": ""}', 400, {"prompt": ["This field may not be blank."]}),
    (b'{"prompt": " \\n\\t "}', 400, {"prompt": ["This field may not be blank."]}),
    (b'{"prompt": null}', 400, {"prompt": ["This field may not be null."]}),
    (b'{"prompt": 42}', 400, {"prompt": ["Not a valid string."]}),
    (b'{"prompt": ["hi"]}', 400, {"prompt": ["Not a valid string."]}),
    (b'{"prompt": "hi", "stream": true}', 400, {"stream": ["Unknown field."]}),
    (b"[]", 400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}),
    (b'"hi"', 400, {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}),
    (b"null", 400, {"non_field_errors": ["No data provided"]}),
    (b'{"prompt": "\\ud800"}', 400,
     {"prompt": ["must be valid Unicode (no unpaired surrogates)"]}),
    (b"\xff\xfe", 400, {"detail": "The request body is not valid JSON."}),
    (b'{"prompt": "a\\u0000b"}', 400,
     {"prompt": ["must not contain NUL (U+0000) characters"]}),
    (b"prompt=hi", 400, {"detail": "The request body is not valid JSON."}),
    (b'{"prompt": "unterminated', 400, {"detail": "The request body is not valid JSON."}),
]  # fmt: skip


async def test_bad_input_is_400_in_drf_style_and_stores_nothing(start_worker: StartWorker) -> None:
    node = await start_worker()
    world, key, session = await _setup(node)
    path = f"{STREAM}/{session.id}/"
    async with node.client() as client:
        for content, status, body in BAD_BODIES:
            response = await _post(client, path, key.headers, content)
            assert (response.status_code, response.json()) == (status, body), content
            assert response.headers["content-type"] == "application/json"
        too_long = "x" * (PROMPT_MAX + 1)
        response = await client.post(path, headers=key.headers, json={"prompt": too_long})
        assert response.json() == {
            "prompt": [f"Ensure this field has no more than {PROMPT_MAX} characters."]
        }
        # Under the field's limit but over the server's message limit (4 KiB in tests).
        response = await client.post(path, headers=key.headers, json={"prompt": "y" * 5000})
        assert response.status_code == 400 and list(response.json()) == ["prompt"]
    assert await _stored(world) == (0, 0)


async def test_credentials_are_checked_before_the_body(start_worker: StartWorker) -> None:
    node = await start_worker()
    world, _key, session = await _setup(node)
    path = f"{STREAM}/{session.id}/"
    async with node.client() as client:
        missing = await _post(client, path, {}, b"not json")
        wrong = await _post(client, path, {"Authorization": "Bearer ck_nope"}, b'{"prompt": "hi"}')
    assert missing.status_code == 401
    assert missing.json() == {"detail": "Authentication credentials were not provided."}
    assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
    assert wrong.status_code == 401 and set(wrong.json()) == {"detail"}
    assert await _stored(world) == (0, 0)


async def test_unknown_and_foreign_sessions_are_chat_session_not_found(
    start_worker: StartWorker,
) -> None:
    node = await start_worker()
    world, key, session = await _setup(node)
    other_user = await world.key(key.tenant, "bob")
    other_tenant = await world.key(await world.tenant(), key.user_id)  # same user id elsewhere
    body = {"prompt": "hello?"}
    async with node.client() as client:
        refusals = [
            await client.post(f"{STREAM}/{session.id}/", headers=other_user.headers, json=body),
            await client.post(f"{STREAM}/{session.id}/", headers=other_tenant.headers, json=body),
            await client.post(f"{STREAM}/{2**62}/", headers=key.headers, json=body),
            await client.post(f"{STREAM}/abc/", headers=key.headers, json=body),
            await client.post(f"{STREAM}/0/", headers=key.headers, json=body),
            await client.post(f"{STREAM}/{2**64}/", headers=key.headers, json=body),
        ]
    for response in refusals:
        assert (response.status_code, response.json()) == (404, NOT_FOUND), response.url
    assert await _stored(world) == (0, 0)


async def test_a_credential_without_messages_write_is_403(start_worker: StartWorker) -> None:
    node = await start_worker()
    world = World(node.runtime)
    tenant = await world.tenant()
    owner = await world.key(tenant)
    reader = await world.key(tenant, scopes=("sessions:read", "messages:read"))
    session = await world.session(owner)
    async with node.client() as client:
        own = await client.post(f"{STREAM}/{session.id}/", headers=reader.headers,
                                json={"prompt": "hi"})  # fmt: skip
        unknown = await client.post(f"{STREAM}/{2**62}/", headers=reader.headers,
                                    json={"prompt": "hi"})  # fmt: skip
    # The scope is checked first, whatever the session: a 403 tells nothing about it.
    assert own.status_code == unknown.status_code == 403
    assert own.json() == unknown.json() and "messages:write" in own.json()["detail"]
    assert await _stored(world) == (0, 0)


async def test_a_service_key_acts_for_the_named_user_only(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    world, key, session = await _setup(node)
    service = await world.key(key.tenant, "backend", service=True)
    path = f"{STREAM}/{session.id}/"
    async with node.client() as client:
        wrong = await client.post(path, headers=service.headers, params={"user_id": "bob"},
                                  json={"prompt": "hi"})  # fmt: skip
        assert (wrong.status_code, wrong.json()) == (404, NOT_FOUND)
        as_alice = {"user_id": key.user_id}
        body = {"prompt": "hi"}
        async with client.stream(
            "POST", path, headers=service.headers, params=as_alice, json=body
        ) as ok:
            assert ok.status_code == 200
            frames = await read_frames(ok)
    assert frames[0].data["type"] == "start" and frames[-1].data == {"type": "end"}


async def test_reattach_and_cancel_refuse_what_the_caller_cannot_see(
    start_worker: StartWorker, library: Library
) -> None:
    node = await start_worker()
    world, key, session = await _setup(node)
    other = await world.session(key)  # the caller's too, but not the answer's session
    stranger = await world.key(key.tenant, "bob")
    async with node.client() as client:
        async with client.stream("POST", f"{STREAM}/{session.id}/", headers=key.headers,
                                 json={"prompt": "hi"}) as response:  # fmt: skip
            answer_id = (await read_frames(response))[0].data["answer_id"]
        before = await _stored(world)
        own = f"{STREAM}/{session.id}/{answer_id}/"
        cases = [
            ("GET", f"{STREAM}/{other.id}/{answer_id}/", key, 404, {"detail": "Not found."}),
            ("GET", f"{STREAM}/{session.id}/{uuid.uuid4()}/", key, 404, {"detail": "Not found."}),
            ("GET", f"{STREAM}/{session.id}/not-a-uuid/", key, 404, {"detail": "Not found."}),
            ("GET", own, stranger, 404, NOT_FOUND),
            ("POST", f"{own}cancel/", stranger, 404, NOT_FOUND),
            ("POST", f"{STREAM}/{other.id}/{answer_id}/cancel/", key, 404,
             {"detail": "Not found."}),
        ]  # fmt: skip
        for method, path, who, status, body in cases:
            response = await client.request(method, path, headers=who.headers)
            assert (response.status_code, response.json()) == (status, body), (method, path)
        bad_ids = ["x", "-1", "999"]
        for value in bad_ids:
            response = await client.get(own, headers={**key.headers, "Last-Event-ID": value})
            assert response.status_code == 400 and list(response.json()) == ["Last-Event-ID"]
        # Cancelling a finished answer changes nothing.
        finished = await client.post(f"{own}cancel/", headers=key.headers)
    assert finished.status_code == 200 and finished.json()["status"] == "complete"
    assert await _stored(world) == before
