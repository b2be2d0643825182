"""Bad input gets a clear problem+json error and changes nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _session(client: httpx.AsyncClient, key: Key) -> dict[str, Any]:
    response = await client.post("/v1/sessions", headers=key.headers, json={"title": "keep me"})
    body: dict[str, Any] = response.json()
    return body


async def _unchanged(client: httpx.AsyncClient, key: Key, before: dict[str, Any]) -> None:
    after = await client.get(f"/v1/sessions/{before['id']}", headers=key.headers)
    assert after.json() == before


async def test_malformed_json_is_400(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    s = await _session(client, key)
    response = await client.patch(
        f"/v1/sessions/{s['id']}",
        headers={**key.headers, "Content-Type": "application/json"},
        content=b'{"title": ',
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:chatkeep:problem:malformed-request"
    await _unchanged(client, key, s)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": 5}, "title"),
        ({"is_pinned": "yes"}, "is_pinned"),
        ({"archived": 1}, "archived"),
        ({"title": "x" * 513}, "title"),
        ({"domain_id": "not-a-uuid"}, "domain_id"),
        ({"metadata": []}, "metadata"),
        ({"owner": "bob"}, "owner"),
        ({"id": "00000000-0000-4000-8000-000000000000"}, "id"),
        ({"title": None}, "title"),
    ],
)
async def test_invalid_update_is_422_per_field_and_changes_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    key = await world.key(await world.tenant())
    s = await _session(client, key)
    response = await client.patch(f"/v1/sessions/{s['id']}", headers=key.headers, json=body)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "urn:chatkeep:problem:invalid-argument"
    assert [e["field"] for e in problem["errors"]] == [field]
    await _unchanged(client, key, s)


@pytest.mark.parametrize(
    "body",
    [
        {"title": "x" * 513},
        {"user_id": ""},
        {"title": ["list"]},
        {"int_id": 7},
        {"system_context": 3},
        {"metadata": {"big": "x" * 20000}},
    ],
)
async def test_invalid_create_is_422_and_stores_nothing(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    key = await world.key(await world.tenant())
    response = await client.post("/v1/sessions", headers=key.headers, json=body)
    assert response.status_code == 422, response.text
    listed = await client.get("/v1/sessions", headers=key.headers, params={"archived": "false"})
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"domain_id": "nope"}, "query.domain_id"),
        ({"order": "random"}, "query.order"),
        ({"pinned": "perhaps"}, "query.pinned"),
    ],
)
async def test_invalid_list_parameters_are_422(
    client: httpx.AsyncClient, world: World, params: dict[str, Any], field: str
) -> None:
    key = await world.key(await world.tenant())
    response = await client.get("/v1/sessions", headers=key.headers, params=params)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]


async def test_invalid_path_id_is_422(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    response = await client.get("/v1/sessions/123", headers=key.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.session_id"


async def test_body_over_the_limit_is_413_before_parsing(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    big = b'{"title": "' + b"x" * (70 * 1024) + b'"}'
    response = await client.post(
        "/v1/sessions",
        headers={**key.headers, "Content-Type": "application/json"},
        content=big,
    )
    assert response.status_code == 413
    assert response.json()["type"] == "urn:chatkeep:problem:payload-too-large"
    assert (await client.get("/v1/sessions", headers=key.headers)).json()["data"] == []


async def test_chunked_body_over_the_limit_is_413(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())

    async def chunks() -> Any:
        yield b'{"title": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post(
        "/v1/sessions",
        headers={**key.headers, "Content-Type": "application/json"},
        content=chunks(),
    )
    assert response.status_code == 413
    assert (await client.get("/v1/sessions", headers=key.headers)).json()["data"] == []


async def test_unknown_route_and_wrong_method_are_problems(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    missing = await client.get("/v1/nothing-here", headers=key.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.put("/v1/sessions", headers=key.headers, json={})
    assert wrong.status_code == 405
    assert set(wrong.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    assert wrong.json()["type"] == "urn:chatkeep:problem:method-not-allowed"
