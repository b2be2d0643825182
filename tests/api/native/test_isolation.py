"""One user never sees another's sessions; one tenant never sees another's anything."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import World

pytestmark = pytest.mark.anyio


def _paths(session_id: str) -> list[tuple[str, str, object]]:
    return [
        ("GET", f"/v1/sessions/{session_id}", None),
        ("PATCH", f"/v1/sessions/{session_id}", {"title": "stolen"}),
        ("DELETE", f"/v1/sessions/{session_id}", None),
        ("GET", f"/v1/sessions/{session_id}/messages", None),
        ("POST", f"/v1/sessions/{session_id}/messages", {"role": "user", "content": "x"}),
    ]


async def _assert_hidden(client: httpx.AsyncClient, headers: dict[str, str], sid: str) -> None:
    for method, path, body in _paths(sid):
        response = await client.request(method, path, headers=headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["type"] == "urn:chatkeep:problem:not-found"


async def test_another_users_session_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    alice, bob = await world.key(tenant, "alice"), await world.key(tenant, "bob")
    secret = await world.session(alice, title="alice only")
    await _assert_hidden(client, bob.headers, str(secret.uuid))
    listed = await client.get("/v1/sessions", headers=bob.headers)
    assert listed.json()["data"] == []
    still = await client.get(f"/v1/sessions/{secret.uuid}", headers=alice.headers)
    assert still.json()["title"] == "alice only"
    assert still.json()["message_count"] == 0


async def test_other_tenants_session_is_not_found_even_for_a_service_key(
    client: httpx.AsyncClient, world: World
) -> None:
    acme, umbrella = await world.tenant(), await world.tenant()
    alice = await world.key(acme, "alice")
    secret = await world.session(alice, title="acme secret")
    intruder = await world.key(umbrella, "alice", service=True)
    await _assert_hidden(client, intruder.headers, str(secret.uuid))
    same_name = await client.get(
        "/v1/sessions", params={"user_id": "alice"}, headers=intruder.headers
    )
    assert same_name.json()["data"] == []


async def test_missing_and_foreign_sessions_look_the_same(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice, bob = await world.key(tenant, "alice"), await world.key(tenant, "bob")
    foreign = await world.session(alice, title="x")
    missing = "00000000-0000-4000-8000-000000000000"
    a = await client.get(f"/v1/sessions/{foreign.uuid}", headers=bob.headers)
    b = await client.get(f"/v1/sessions/{missing}", headers=bob.headers)
    assert (a.status_code, a.json()["detail"]) == (b.status_code, b.json()["detail"])


async def test_other_tenants_domain_is_not_found(client: httpx.AsyncClient, world: World) -> None:
    acme, umbrella = await world.tenant(), await world.tenant()
    domain = await world.domain(acme, "Acme docs")
    intruder = await world.key(umbrella, "mallory")
    for method, path, body in [
        ("GET", f"/v1/domains/{domain.id}", None),
        ("PATCH", f"/v1/domains/{domain.id}", {"name": "pwned"}),
        ("DELETE", f"/v1/domains/{domain.id}", None),
    ]:
        response = await client.request(method, path, headers=intruder.headers, json=body)
        assert response.status_code == 404, (method, path)
    created = await client.post(
        "/v1/sessions", headers=intruder.headers, json={"domain_id": str(domain.id)}
    )
    assert created.status_code == 404
    listed = await client.get("/v1/domains", headers=intruder.headers)
    assert [d["name"] for d in listed.json()["data"]] == ["Default"]


async def test_service_key_reads_any_session_of_its_tenant_by_id(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    service = await world.key(tenant, "backend", service=True)
    session = await world.session(alice, title="alice's")
    read = await client.get(f"/v1/sessions/{session.uuid}", headers=service.headers)
    assert read.status_code == 200
    assert read.json()["user_id"] == "alice"
    # Naming a different user narrows the lookup to that user's sessions.
    narrowed = await client.get(
        f"/v1/sessions/{session.uuid}", params={"user_id": "bob"}, headers=service.headers
    )
    assert narrowed.status_code == 404
