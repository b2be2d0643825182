"""Native domains: a per-tenant tree with unique sibling names and guarded deletes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _create(client: httpx.AsyncClient, key: Key, **body: Any) -> httpx.Response:
    return await client.post("/v1/domains", headers=key.headers, json=body)


async def test_create_read_rename_and_move(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    docs = (await _create(client, key, name="Docs")).json()
    api = await _create(client, key, name="API", parent_id=docs["id"])
    assert api.status_code == 201
    assert api.headers["location"] == f"/v1/domains/{api.json()['id']}"
    assert api.json()["parent_id"] == docs["id"]
    url = f"/v1/domains/{api.json()['id']}"
    renamed = await client.patch(url, headers=key.headers, json={"name": "API v2"})
    assert (renamed.json()["name"], renamed.json()["parent_id"]) == ("API v2", docs["id"])
    moved = await client.patch(url, headers=key.headers, json={"parent_id": None})
    assert moved.json()["parent_id"] is None
    listed = (await client.get("/v1/domains", headers=key.headers)).json()
    assert [d["name"] for d in listed["data"]] == ["API v2", "Default", "Docs"]
    roots = await client.get("/v1/domains", headers=key.headers, params={"parent_id": docs["id"]})
    assert roots.json()["data"] == []


async def test_sibling_names_are_unique(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    docs = (await _create(client, key, name="Docs")).json()
    assert (await _create(client, key, name="Docs")).status_code == 409
    assert (await _create(client, key, name="Docs", parent_id=docs["id"])).status_code == 201


async def test_a_domain_cannot_move_under_its_own_subtree(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    a = (await _create(client, key, name="a")).json()
    b = (await _create(client, key, name="b", parent_id=a["id"])).json()
    for parent in (a["id"], b["id"]):
        r = await client.patch(
            f"/v1/domains/{a['id']}", headers=key.headers, json={"parent_id": parent}
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["field"] == "parent_id"


async def test_deleting_a_domain_with_sessions_needs_cascade(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    docs = (await _create(client, key, name="Docs")).json()
    child = (await _create(client, key, name="Child", parent_id=docs["id"])).json()
    session = await client.post(
        "/v1/sessions", headers=key.headers, json={"title": "in child", "domain_id": child["id"]}
    )
    url = f"/v1/domains/{docs['id']}"
    refused = await client.delete(url, headers=key.headers)
    assert refused.status_code == 409
    sid = session.json()["id"]
    assert (await client.get(f"/v1/sessions/{sid}", headers=key.headers)).status_code == 200
    done = await client.delete(url, headers=key.headers, params={"cascade": True})
    assert done.status_code == 204
    for gone in (url, f"/v1/domains/{child['id']}", f"/v1/sessions/{sid}"):
        assert (await client.get(gone, headers=key.headers)).status_code == 404


async def test_empty_domain_deletes_without_cascade(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    docs = (await _create(client, key, name="Docs")).json()
    assert (
        await client.delete(f"/v1/domains/{docs['id']}", headers=key.headers)
    ).status_code == 204


async def test_default_domain_cannot_be_deleted(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    default = (await client.get("/v1/domains", headers=key.headers)).json()["data"][0]
    assert default["is_default"] is True
    r = await client.delete(
        f"/v1/domains/{default['id']}", headers=key.headers, params={"cascade": True}
    )
    assert r.status_code == 409


@pytest.mark.parametrize(
    "body", [{"name": ""}, {"name": "x" * 256}, {"name": 3}, {}, {"name": "ok", "x": 1}]
)
async def test_invalid_domain_is_422(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    key = await world.key(await world.tenant())
    assert (await _create(client, key, **body)).status_code == 422


async def test_domains_nest_at_most_32_deep(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    parent = None
    for level in range(1, 33):  # levels 1..32 are allowed
        created = await _create(client, key, name=f"level {level}", parent_id=parent)
        assert created.status_code == 201, (level, created.text)
        parent = created.json()["id"]
    too_deep = await _create(client, key, name="level 33", parent_id=parent)
    assert too_deep.status_code == 422
    assert too_deep.json()["errors"][0]["field"] == "parent_id"
    loose = (await _create(client, key, name="loose")).json()
    moved = await client.patch(
        f"/v1/domains/{loose['id']}", headers=key.headers, json={"parent_id": parent}
    )
    assert moved.status_code == 422
    assert "32 deep" in moved.json()["errors"][0]["message"]
