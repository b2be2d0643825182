"""Native API authentication and authorization: 401 / 403 / 404 rules."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from chatkeep.core import tenants
from tests.factories import World

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"


async def test_missing_credentials_is_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/sessions")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == 'Bearer realm="chatkeep"'
    body = response.json()
    assert body["type"] == "urn:chatkeep:problem:unauthenticated"
    assert body["status"] == 401
    assert body["detail"] == "Authentication credentials were not provided."


@pytest.mark.parametrize(
    "header",
    ["Bearer ck_nope", "Bearer ck_0123456789abNOTAREALSECRET", "Basic dXNlcjpwYXNz", "Bearer"],
)
async def test_invalid_credentials_are_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/v1/sessions", headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_key_with_wrong_secret_is_401(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    forged = key.key[:-4] + ("AAAA" if not key.key.endswith("AAAA") else "BBBB")
    response = await client.get("/v1/sessions", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_revoked_key_is_401(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    assert (await client.get("/v1/sessions", headers=key.headers)).status_code == 200
    await world.run(lambda uow: tenants.revoke_api_key(uow, key.id))
    response = await client.get("/v1/sessions", headers=key.headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has been revoked."


async def test_expired_key_is_401(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant(), expires_in=timedelta(microseconds=1))
    response = await client.get("/v1/sessions", headers=key.headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key has expired."


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/v1/sessions", "sessions:read"),
        ("POST", "/v1/sessions", "sessions:write"),
        ("GET", "/v1/domains", "domains:read"),
        ("POST", "/v1/domains", "domains:write"),
    ],
)
async def test_missing_scope_is_403(
    client: httpx.AsyncClient, world: World, method: str, path: str, scope: str
) -> None:
    tenant = await world.tenant()
    other_scopes = tuple(
        s for s in ("sessions:read", "sessions:write", "domains:read", "domains:write")
        if s != scope
    )  # fmt: skip
    key = await world.key(tenant, scopes=other_scopes)
    body = {"name": "x"} if path == "/v1/domains" else {}
    response = await client.request(method, path, headers=key.headers, json=body)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert scope in response.json()["detail"]


async def test_message_scopes_are_separate_from_session_scopes(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant, scopes=("sessions:read", "sessions:write"))
    session = await world.session(key, title="t")
    url = f"/v1/sessions/{session.uuid}/messages"
    assert (await client.get(url, headers=key.headers)).status_code == 403
    posted = await client.post(url, headers=key.headers, json={"role": "user", "content": "hi"})
    assert posted.status_code == 403


async def test_user_key_cannot_act_for_another_user(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    await world.session(await world.key(tenant, "bob"), title="bob's")
    listed = await client.get("/v1/sessions", params={"user_id": "bob"}, headers=alice.headers)
    assert listed.status_code == 403
    created = await client.post(
        "/v1/sessions", headers=alice.headers, json={"title": "x", "user_id": "bob"}
    )
    assert created.status_code == 403
    own = await client.get("/v1/sessions", params={"user_id": "alice"}, headers=alice.headers)
    assert own.status_code == 200


async def test_service_key_acts_for_named_users_of_its_tenant(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    service = await world.key(tenant, "backend", service=True)
    created = await client.post(
        "/v1/sessions", headers=service.headers, json={"title": "for carol", "user_id": "carol"}
    )
    assert created.status_code == 201
    assert created.json()["user_id"] == "carol"
    mine = await client.get("/v1/sessions", headers=service.headers)
    assert mine.json()["data"] == []  # omitted user_id means the key's own user
    carols = await client.get("/v1/sessions", params={"user_id": "carol"}, headers=service.headers)
    assert [s["title"] for s in carols.json()["data"]] == ["for carol"]
    # A user nobody has named yet simply has no sessions (and is not created by a read).
    nobody = await client.get("/v1/sessions", params={"user_id": "zed"}, headers=service.headers)
    assert nobody.status_code == 200
    assert nobody.json() == {"data": [], "next_cursor": None, "has_more": False}
