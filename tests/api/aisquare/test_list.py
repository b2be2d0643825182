"""GET /api/v1/qllm/chat-sessions/: the seed's list, byte for byte, and its extensions."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.api.aisquare.seed import LIST, assert_seed_shape, detail_path, token_headers
from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _list(client: httpx.AsyncClient, key: Key, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(LIST, headers=key.headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: list[dict[str, Any]] = response.json()
    return body


async def _say(client: httpx.AsyncClient, key: Key, session_id: int) -> None:
    response = await client.post(
        f"{detail_path(session_id)}messages/",
        headers=key.headers,
        json={"role": "user", "content": "hello"},
    )
    assert response.status_code == 201, response.text


async def test_list_is_an_array_shaped_exactly_like_the_seed(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    legal = await world.domain(tenant, "Legal")
    made = await world.session(key, title="Contracts", domain_id=legal.id, system_context="Cite.")
    await world.session(key)  # untitled, default domain, no system context
    body = await _list(client, key)
    assert isinstance(body, list) and len(body) == 2
    for item in body:
        assert_seed_shape(item)
    assert body[1] == {
        "id": made.id,
        "system_context": "Cite.",
        "last_message_at": made.created_at.isoformat().replace("+00:00", "Z"),
        "domain_id": str(legal.id),
        "domain_name": "Legal",
        "title": "Contracts",
        "is_pinned": False,
    }
    assert (body[0]["title"], body[0]["system_context"], body[0]["domain_name"]) == (
        "",
        "",
        "Default",
    )


async def test_last_message_at_is_the_creation_time_until_a_message_arrives(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    made = await world.session(key, title="t")
    [before] = await _list(client, key)
    assert before["last_message_at"] == made.created_at.isoformat().replace("+00:00", "Z")
    await _say(client, key, made.id)
    [after] = await _list(client, key)
    assert after["last_message_at"] > before["last_message_at"]


async def test_order_is_pinned_first_then_recent_activity_then_id(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    a, b, *_ = [await world.session(key, title=t) for t in "abcd"]

    async def titles() -> list[str]:
        return [s["title"] for s in await _list(client, key)]

    assert await titles() == ["d", "c", "b", "a"]
    await _say(client, key, a.id)
    assert await titles() == ["a", "d", "c", "b"]
    pin = await client.patch(detail_path(b.id), headers=key.headers, json={"is_pinned": True})
    assert pin.status_code == 200 and pin.json()["is_pinned"] is True
    assert await titles() == ["b", "a", "d", "c"]
    assert [s["is_pinned"] for s in await _list(client, key)] == [True, False, False, False]


async def test_domain_filter_lists_only_that_domain(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    legal = await world.domain(tenant, "Legal")
    await world.session(key, title="in legal", domain_id=legal.id)
    await world.session(key, title="in default")
    body = await _list(client, key, domain_id=str(legal.id))
    assert [s["title"] for s in body] == ["in legal"]
    assert len(await _list(client, key, domain_id="")) == 2  # empty value: no filter


async def test_unknown_or_foreign_domain_filters_to_an_empty_array(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    await world.session(key, title="mine")
    other_tenant = await world.tenant()
    foreign = await world.domain(other_tenant, "Theirs")
    assert await _list(client, key, domain_id=str(uuid.uuid4())) == []
    assert await _list(client, key, domain_id=str(foreign.id)) == []


async def test_token_scheme_and_bearer_scheme_both_authenticate(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    await world.session(key, title="x")
    bearer = await client.get(LIST, headers=key.headers)
    token = await client.get(LIST, headers=token_headers(key))
    assert bearer.status_code == token.status_code == 200
    assert bearer.json() == token.json()


async def test_path_without_trailing_slash_answers_the_same(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    made = await world.session(key, title="x")
    slashed = await client.get(LIST, headers=key.headers)
    bare = await client.get(LIST.rstrip("/"), headers=key.headers)
    assert bare.status_code == 200 and bare.content == slashed.content
    one = await client.get(detail_path(made.id).rstrip("/"), headers=key.headers)
    assert one.status_code == 200 and one.json()["id"] == made.id


async def test_the_seeds_sdk_request_with_a_json_body_works(
    client: httpx.AsyncClient, world: World
) -> None:
    """The seed's examples send ``{}`` with Content-Type JSON on the GET."""
    key = await world.key(await world.tenant())
    await world.session(key, title="x")
    response = await client.request(
        "GET", LIST, headers={**key.headers, "Content-Type": "application/json"}, content=b"{}"
    )
    assert response.status_code == 200
    assert [s["title"] for s in response.json()] == ["x"]


async def test_limit_and_offset_page_the_array_and_count_the_total(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    for title in "abcde":
        await world.session(key, title=title)
    response = await client.get(LIST, headers=key.headers, params={"limit": 2, "offset": 1})
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "5"
    assert [s["title"] for s in response.json()] == ["d", "c"]
    tail = await client.get(LIST, headers=key.headers, params={"offset": 4})
    assert [s["title"] for s in tail.json()] == ["a"]
    assert tail.headers["x-total-count"] == "5"
    unpaged = await client.get(LIST, headers=key.headers)
    assert "x-total-count" not in unpaged.headers


async def test_service_key_lists_the_user_it_names(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    service = await world.key(tenant, "backend", service=True)
    alice = await world.key(tenant, "alice")
    await world.session(alice, title="alice's")
    await world.session(service, title="backend's own")
    assert [s["title"] for s in await _list(client, service)] == ["backend's own"]
    assert [s["title"] for s in await _list(client, service, user_id="alice")] == ["alice's"]
    assert await _list(client, service, user_id="nobody-yet") == []


async def test_native_api_and_aisquare_show_the_same_sessions(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    legal = await world.domain(tenant, "Legal")
    first = await world.session(key, title="one", domain_id=legal.id, system_context="ctx")
    await world.session(key, title="two")
    await _say(client, key, first.id)
    native = (await client.get("/v1/sessions", headers=key.headers)).json()["data"]
    aisquare = await _list(client, key)
    assert [s["int_id"] for s in native] == [s["id"] for s in aisquare]
    for mine, theirs in zip(aisquare, native, strict=True):
        last = theirs["last_message_at"] or theirs["created_at"]
        assert mine == {
            "id": theirs["int_id"],
            "system_context": theirs["system_context"],
            "last_message_at": last.replace("+00:00", "Z"),
            "domain_id": theirs["domain_id"],
            "domain_name": theirs["domain_name"],
            "title": theirs["title"],
            "is_pinned": theirs["is_pinned"],
        }
