"""Nothing crosses users or tenants: another's session is not found, another's list empty."""

from __future__ import annotations

import httpx
import pytest

from tests.api.aisquare.seed import LIST, detail_path, messages_path
from tests.factories import World

pytestmark = pytest.mark.anyio

NOT_FOUND = {"detail": "Not found."}


async def _assert_hidden(client: httpx.AsyncClient, headers: dict[str, str], sid: int) -> None:
    attempts = [
        ("GET", detail_path(sid), None),
        ("PATCH", detail_path(sid), {"title": "mine now"}),
        ("DELETE", detail_path(sid), None),
        ("GET", messages_path(sid), None),
        ("POST", messages_path(sid), {"role": "user", "content": "hi"}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, headers=headers, json=body)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), (method, path)


async def test_another_users_sessions_are_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    bob = await world.key(tenant, "bob")
    hers = await world.session(alice, title="alice's")
    assert (await client.get(LIST, headers=bob.headers)).json() == []
    await _assert_hidden(client, bob.headers, hers.id)
    mine = await client.get(detail_path(hers.id), headers=alice.headers)
    assert mine.json()["title"] == "alice's"  # untouched by bob's attempts


async def test_another_tenants_sessions_are_not_found_even_for_a_service_key(
    client: httpx.AsyncClient, world: World
) -> None:
    alice = await world.key(await world.tenant(), "alice")
    hers = await world.session(alice, title="alice's")
    other = await world.key(await world.tenant(), "ops", service=True)
    listed = await client.get(LIST, headers=other.headers, params={"user_id": "alice"})
    assert listed.json() == []
    await _assert_hidden(client, other.headers, hers.id)
    assert (await client.get(LIST, headers=alice.headers)).json()[0]["title"] == "alice's"


async def test_service_key_reaches_its_tenants_users_by_id(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    service = await world.key(tenant, "ops", service=True)
    hers = await world.session(alice, title="alice's")
    response = await client.get(detail_path(hers.id), headers=service.headers)
    assert response.json()["title"] == "alice's"
    wrong_user = await client.get(
        detail_path(hers.id), headers=service.headers, params={"user_id": "bob"}
    )
    assert (wrong_user.status_code, wrong_user.json()) == (404, NOT_FOUND)
    created = await client.post(LIST, headers=service.headers, params={"user_id": "carol"})
    assert created.status_code == 201
    carols = await client.get(LIST, headers=service.headers, params={"user_id": "carol"})
    assert [s["id"] for s in carols.json()] == [created.json()["id"]]
