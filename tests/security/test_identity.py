"""Identity comes only from the credential: body or query fields naming an owner, a tenant
or an id on create/update are refused (native, AISquare: unknown fields) or ignored (AI-doc,
whose requests ignore unknown fields for newer SDKs), never honoured."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.factories import World

pytestmark = pytest.mark.anyio

# Each names an owner, a tenant, an id or a server-kept value of another record.
FORGED = ["id", "int_id", "uuid", "user_pk", "tenant_id", "tenant", "owner", "created_at",
          "updated_at", "message_count", "session_id"]  # fmt: skip


async def setup(world: World) -> tuple[str, dict[str, str], dict[str, str], str, int]:
    tenant, other_tenant = await world.tenant(), await world.tenant()
    alice = await world.key(tenant, "alice")
    bob = await world.key(tenant, "bob")
    victim = await world.session(await world.key(other_tenant, "alice"), title="victim")
    await world.session(bob, title="bob's")
    return tenant, alice.headers, bob.headers, str(victim.uuid), victim.id


def forged_value(field: str, victim_uuid: str, victim_id: int) -> object:
    return {"id": victim_uuid, "uuid": victim_uuid, "session_id": victim_uuid,
            "int_id": victim_id, "user_pk": 1, "message_count": 99,
            "created_at": "2001-01-01T00:00:00Z", "updated_at": "2001-01-01T00:00:00Z",
            }.get(field, "someone-else")  # fmt: skip


async def test_native_and_aisquare_refuse_identity_fields_on_create_update_and_append(
    world: World, client: httpx.AsyncClient
) -> None:
    _, alice, _, victim, victim_id = await setup(world)
    mine = (await client.post("/v1/sessions", json={"title": "mine"}, headers=alice)).json()
    for field in FORGED:
        value = forged_value(field, victim, victim_id)
        native = [
            ("POST", "/v1/sessions", {"title": "t", field: value}),
            ("PATCH", f"/v1/sessions/{mine['id']}", {"title": "t", field: value}),
            ("POST", f"/v1/sessions/{mine['id']}/messages",
             {"role": "user", "content": "c", field: value}),
        ]  # fmt: skip
        for method, path, body in native:
            response = await client.request(method, path, json=body, headers=alice)
            assert response.status_code == 422, (field, path, response.text)
            assert any(e["field"].endswith(field) for e in response.json()["errors"]), field
        base = "/api/v1/qllm/chat-sessions"
        aisquare = [
            ("POST", f"{base}/", {"title": "t", field: value}),
            ("PATCH", f"{base}/{mine['int_id']}/", {"title": "t", field: value}),
            ("POST", f"{base}/{mine['int_id']}/messages/",
             {"role": "user", "content": "c", field: value}),
        ]  # fmt: skip
        for method, path, body in aisquare:
            response = await client.request(method, path, json=body, headers=alice)
            assert response.status_code == 400 and field in response.json(), (field, path)
    listed = (await client.get("/v1/sessions", headers=alice)).json()["data"]
    assert [(s["id"], s["title"], s["message_count"]) for s in listed] == [(mine["id"], "mine", 0)]


async def test_query_parameters_naming_an_owner_are_not_honoured(
    world: World, client: httpx.AsyncClient
) -> None:
    """Unknown query fields are ignored; ``user_id`` (a known one) is a 403 for a user key."""
    _, alice, bob, victim, _ = await setup(world)
    ignored = {"tenant_id": "1", "owner": "bob", "user_pk": "1", "id": victim}
    created = await client.post("/v1/sessions", params=ignored, json={}, headers=alice)
    assert created.status_code == 201 and created.json()["user_id"] == "alice"
    square = await client.post("/api/v1/qllm/chat-sessions/", params=ignored, headers=alice)
    assert square.status_code == 201
    for path in ("/v1/sessions", "/api/v1/qllm/chat-sessions/"):
        refused = await client.get(path, params={"user_id": "bob"}, headers=alice)
        assert refused.status_code == 403, path
    # Native takes user_id in the body: the query field is ignored, the session is alice's.
    made = await client.post("/v1/sessions", params={"user_id": "bob"}, json={}, headers=alice)
    assert made.status_code == 201 and made.json()["user_id"] == "alice"
    square_as_bob = await client.post(
        "/api/v1/qllm/chat-sessions/", params={"user_id": "bob"}, headers=alice
    )
    assert square_as_bob.status_code == 403
    native_body = await client.post("/v1/sessions", json={"user_id": "bob"}, headers=alice)
    assert native_body.status_code == 403
    bobs = (await client.get("/v1/sessions", headers=bob)).json()["data"]
    assert [s["title"] for s in bobs] == ["bob's"]
    mine = (await client.get("/v1/sessions", headers=alice)).json()["data"]
    assert {s["user_id"] for s in mine} == {"alice"} and len(mine) == 3


async def test_aidoc_ignores_identity_fields_and_acts_for_the_credential(
    world: World, client: httpx.AsyncClient
) -> None:
    _, alice, _, victim, victim_id = await setup(world)
    forged = {"sessionId": victim, "id": victim_id, "tenantId": "1", "createTime": 0,
              "ownerId": "bob", "accountId": "1", "name": "made"}  # fmt: skip
    response = await client.post(
        "/api/v2/aidoc/document/chat/session/create", json=forged, headers=alice
    )
    assert response.status_code == 200, response.text
    made = uuid.UUID(response.json()["data"]["sessionId"])
    assert str(made) != victim
    listed = await client.post(
        "/api/v2/aidoc/document/chat/session/list", json={"sessionId": victim}, headers=alice
    )
    items = listed.json()["data"]["sessionList"]
    assert [(i["sessionId"], i["userId"], i["name"]) for i in items] == [
        (str(made), "alice", "made")
    ]
    assert items[0]["createTime"] > 0
    bob_named = await client.post(
        "/api/v2/aidoc/document/chat/session/create", json={"userId": "bob"}, headers=alice
    )
    assert bob_named.status_code == 403 and bob_named.json()["code"] == "Forbidden.RAM"


async def test_a_deleted_session_is_not_found_in_every_dialect(
    world: World, client: httpx.AsyncClient
) -> None:
    key = await world.key(await world.tenant())
    session = await world.session(key, title="gone")
    assert (
        await client.delete(f"/v1/sessions/{session.uuid}", headers=key.headers)
    ).status_code == 204
    native = await client.get(f"/v1/sessions/{session.uuid}", headers=key.headers)
    again = await client.delete(f"/v1/sessions/{session.uuid}", headers=key.headers)
    square = await client.get(f"/api/v1/qllm/chat-sessions/{session.id}/", headers=key.headers)
    aidoc = await client.post(
        "/api/v2/aidoc/document/chat/list", json={"sessionId": str(session.uuid)},
        headers=key.headers,
    )  # fmt: skip
    assert native.status_code == again.status_code == square.status_code == 404
    assert square.json() == {"detail": "Not found."}
    assert aidoc.status_code == 404 and aidoc.json()["code"] == "InvalidSessionId.NotFound"
