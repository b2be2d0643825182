"""The chatkeep extensions in AISquare's style: create, read, update, delete, messages."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatkeep.core.models import TITLE_MAX
from tests.api.aisquare.seed import (
    LIST,
    assert_seed_shape,
    assert_utc_timestamp,
    detail_path,
    messages_path,
)
from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _create(client: httpx.AsyncClient, key: Key, **body: Any) -> dict[str, Any]:
    response = await client.post(LIST, headers=key.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_create_returns_the_seed_shape_with_location(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    legal = await world.domain(tenant, "Legal")
    response = await client.post(
        LIST,
        headers=key.headers,
        json={"title": "Leases", "domain_id": str(legal.id), "system_context": "Be brief."},
    )
    assert response.status_code == 201
    body = response.json()
    assert_seed_shape(body)
    assert response.headers["location"] == detail_path(body["id"])
    assert (body["title"], body["domain_name"], body["system_context"]) == (
        "Leases",
        "Legal",
        "Be brief.",
    )
    assert (await client.get(detail_path(body["id"]), headers=key.headers)).json() == body


async def test_create_without_a_body_makes_an_untitled_default_session(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(LIST, headers=key.headers)
    assert response.status_code == 201
    assert (response.json()["title"], response.json()["domain_name"]) == ("", "Default")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": 5}, "title"),
        ({"title": None}, "title"),
        ({"title": "x" * (TITLE_MAX + 1)}, "title"),
        ({"domain_id": "nope"}, "domain_id"),
        ({"is_pinned": True}, "is_pinned"),
        ({"system_context": ["a"]}, "system_context"),
    ],
)
async def test_create_rejects_bad_fields_and_stores_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(LIST, headers=key.headers, json=body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert (await client.get(LIST, headers=key.headers)).json() == []


async def test_create_in_an_unknown_domain_is_a_field_error(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    foreign = await world.domain(await world.tenant(), "Theirs")
    response = await client.post(LIST, headers=key.headers, json={"domain_id": str(foreign.id)})
    assert response.status_code == 400
    assert response.json() == {"domain_id": ["No domain with this id."]}


async def test_a_body_that_is_not_an_object_is_a_non_field_error(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(LIST, headers=key.headers, json=["title"])
    assert response.status_code == 400
    assert list(response.json()) == ["non_field_errors"]


async def test_patch_renames_pins_and_edits(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key, title="old")
    response = await client.patch(
        detail_path(made["id"]),
        headers=key.headers,
        json={"title": "new", "is_pinned": True, "system_context": "ctx"},
    )
    assert response.status_code == 200
    assert response.json() == {**made, "title": "new", "is_pinned": True, "system_context": "ctx"}
    unchanged = await client.patch(detail_path(made["id"]), headers=key.headers, json={})
    assert unchanged.json() == response.json()


@pytest.mark.parametrize(
    "body",
    [{"title": None}, {"is_pinned": "yes"}, {"domain_id": None}, {"archived": True}, {"id": 3}],
)
async def test_patch_rejects_bad_fields_and_changes_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key, title="keep")
    response = await client.patch(detail_path(made["id"]), headers=key.headers, json=body)
    assert response.status_code == 400
    assert list(response.json()) == list(body)
    assert (await client.get(detail_path(made["id"]), headers=key.headers)).json() == made


async def test_delete_removes_the_session_and_its_messages(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key, title="bye")
    await client.post(
        messages_path(made["id"]), headers=key.headers, json={"role": "user", "content": "x"}
    )
    response = await client.delete(detail_path(made["id"]), headers=key.headers)
    assert response.status_code == 204 and response.content == b""
    gone = await client.get(detail_path(made["id"]), headers=key.headers)
    assert (gone.status_code, gone.json()) == (404, {"detail": "Not found."})
    assert (await client.get(messages_path(made["id"]), headers=key.headers)).status_code == 404


async def test_messages_are_appended_and_listed_oldest_first(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key, title="chat")
    path = messages_path(made["id"])
    assert (await client.get(path, headers=key.headers)).json() == []
    first = await client.post(path, headers=key.headers, json={"role": "user", "content": "Hi?"})
    assert first.status_code == 201
    reply = {"role": "assistant", "content": "Hello.", "metadata": {"references": ["doc-1"]}}
    await client.post(path, headers=key.headers, json=reply)
    listed = (await client.get(path, headers=key.headers)).json()
    assert listed[0] == first.json()
    assert [(m["role"], m["content"], m["metadata"]) for m in listed] == [
        ("user", "Hi?", {}),
        ("assistant", "Hello.", {"references": ["doc-1"]}),
    ]
    for message in listed:
        assert set(message) == {"id", "session_id", "role", "content", "created_at", "metadata"}
        assert message["session_id"] == made["id"]
        assert_utc_timestamp(message["created_at"])
    session = (await client.get(detail_path(made["id"]), headers=key.headers)).json()
    assert session["last_message_at"] == listed[-1]["created_at"]


async def test_message_list_spans_many_core_pages(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key)
    for n in range(130):  # more than one page of the core's 100
        await client.post(
            messages_path(made["id"]), headers=key.headers, json={"role": "user", "content": str(n)}
        )
    listed = (await client.get(messages_path(made["id"]), headers=key.headers)).json()
    assert [m["content"] for m in listed] == [str(n) for n in range(130)]


async def test_idempotent_message_retry_is_replayed(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key)
    headers = {**key.headers, "Idempotency-Key": "k1"}
    body = {"role": "user", "content": "once"}
    first = await client.post(messages_path(made["id"]), headers=headers, json=body)
    again = await client.post(messages_path(made["id"]), headers=headers, json=body)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert len((await client.get(messages_path(made["id"]), headers=key.headers)).json()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"role": "robot", "content": "x"}, "role"), ({"role": "user"}, "content"),
     ({"role": "user", "content": "x" * 5000}, "content"),
     ({"role": "user", "content": "x", "extra": 1}, "extra")],
)  # fmt: skip
async def test_bad_messages_are_400_field_errors(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    key = await world.key(await world.tenant())
    made = await _create(client, key)
    response = await client.post(messages_path(made["id"]), headers=key.headers, json=body)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert (await client.get(messages_path(made["id"]), headers=key.headers)).json() == []
