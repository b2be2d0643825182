from __future__ import annotations

import uuid

import httpx
import pytest

from chatkeep.core import messages, sessions
from chatkeep.core.types import NewMessage, SessionChanges
from tests.api.aidoc.wire import SESSION_CREATE, SESSION_LIST, data, ms
from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def touch(world: World, key: Key, session_id: uuid.UUID) -> None:
    """Append a message, which makes the session the most recently updated."""
    principal = await world.principal(key)
    await world.run(
        lambda uow: messages.append_message(
            uow, principal, session_id, NewMessage(role="user", content="hi")
        )
    )


async def test_session_list_is_shaped_like_the_documented_example(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant, "12222")
    session = await world.session(key, title="student_app_spelling")
    response = await client.post(SESSION_LIST, json={"userId": "12222"}, headers=key.headers)
    body = response.json()
    assert body == {
        "requestId": body["requestId"],
        "data": {
            "sessionList": [
                {
                    "sessionId": str(session.uuid),
                    "name": "student_app_spelling",
                    "userId": "12222",
                    "folderId": str(session.domain_id),
                    "createTime": body["data"]["sessionList"][0]["createTime"],
                    "updateTime": body["data"]["sessionList"][0]["updateTime"],
                }
            ],
            "total": 1,
            "totalPage": 1,
            "currentPage": 1,
            "pageSize": 10,
        },
    }
    item = data(response)["sessionList"][0]
    assert isinstance(item["createTime"], int)
    assert item["createTime"] == item["updateTime"] == ms(session.created_at)
    assert list(body) == ["requestId", "data"]
    assert list(body["data"]) == ["sessionList", "total", "totalPage", "currentPage", "pageSize"]


async def test_sessions_list_most_recently_updated_first(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    first = await world.session(key, title="first")
    await world.session(key, title="second")
    await world.session(key, title="third")
    await touch(world, key, first.uuid)
    listed = data(await client.post(SESSION_LIST, json={}, headers=key.headers))
    assert [s["name"] for s in listed["sessionList"]] == ["first", "third", "second"]
    top = listed["sessionList"][0]
    assert top["updateTime"] > top["createTime"]


async def test_paging_reports_totals_and_a_page_past_the_end_is_empty(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    for n in range(5):
        await world.session(key, title=f"s{n}")
    pages = [
        data(
            await client.post(
                SESSION_LIST, json={"currentPage": page, "pageSize": 2}, headers=key.headers
            )
        )
        for page in (1, 2, 3, 4)
    ]
    assert [[s["name"] for s in p["sessionList"]] for p in pages] == [
        ["s4", "s3"], ["s2", "s1"], ["s0"], [],
    ]  # fmt: skip
    for number, page in enumerate(pages, start=1):
        assert (page["total"], page["totalPage"]) == (5, 3)
        assert (page["currentPage"], page["pageSize"]) == (number, 2)
    far = await client.post(SESSION_LIST, json={"currentPage": 10**30}, headers=key.headers)
    assert data(far)["sessionList"] == [] and data(far)["total"] == 5


async def test_name_filters_by_case_insensitive_literal_substring(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    for title in ("OkLabs intro", "my oklabs notes", "other", "100% done", "a_b", "axb"):
        await world.session(key, title=title)

    async def names(name: str) -> list[str]:
        body = {"name": name, "pageSize": 100}
        listed = data(await client.post(SESSION_LIST, json=body, headers=key.headers))
        assert listed["total"] == len(listed["sessionList"])
        return sorted(s["name"] for s in listed["sessionList"])

    assert await names("oklabs") == ["OkLabs intro", "my oklabs notes"]
    assert await names("%") == ["100% done"]
    assert await names("a_b") == ["a_b"]
    assert len(await names("")) == 6


async def test_a_user_sees_only_their_own_sessions(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    bob = await world.key(tenant, "bob")
    await world.session(alice, title="alice's")
    await world.session(bob, title="bob's")
    listed = data(await client.post(SESSION_LIST, json={}, headers=bob.headers))
    assert [s["name"] for s in listed["sessionList"]] == ["bob's"]
    other = await world.key(await world.tenant(), "alice")
    assert data(await client.post(SESSION_LIST, headers=other.headers))["total"] == 0


async def test_a_service_key_lists_and_creates_for_the_user_it_names(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    service = await world.key(
        tenant, "backend", service=True, scopes=("sessions:read", "sessions:write")
    )
    created = data(
        await client.post(
            SESSION_CREATE, json={"userId": "12222", "name": "for 12222"}, headers=service.headers
        )
    )
    listed = data(
        await client.post(SESSION_LIST, json={"userId": "12222"}, headers=service.headers)
    )
    assert [(s["sessionId"], s["userId"]) for s in listed["sessionList"]] == [
        (created["sessionId"], "12222")
    ]
    own = data(await client.post(SESSION_LIST, json={"userId": ""}, headers=service.headers))
    assert own["total"] == 0  # empty userId: the credential's own user ("backend")
    unseen = data(
        await client.post(SESSION_LIST, json={"userId": "nobody"}, headers=service.headers)
    )
    assert unseen["sessionList"] == [] and unseen["total"] == 0


async def test_create_session_in_a_folder_and_the_native_api_sees_it_the_same(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    folder = await world.domain(tenant, "Energy")
    body = {"folderId": str(folder.id), "name": "Grid questions"}
    created = data(await client.post(SESSION_CREATE, json=body, headers=key.headers))
    assert set(created) == {"sessionId"}
    listed = data(await client.post(SESSION_LIST, json={}, headers=key.headers))["sessionList"]
    native = (await client.get(f"/v1/sessions/{created['sessionId']}", headers=key.headers)).json()
    assert listed == [
        {
            "sessionId": native["id"],
            "name": native["title"],
            "userId": native["user_id"],
            "folderId": native["domain_id"],
            "createTime": ms(native["created_at"]),
            "updateTime": ms(native["updated_at"]),
        }
    ]
    assert native["domain_id"] == str(folder.id) and native["title"] == "Grid questions"


async def test_a_session_created_natively_is_listed_with_matching_fields(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant, "12222")
    native = (
        await client.post("/v1/sessions", json={"title": "native"}, headers=key.headers)
    ).json()
    principal = await world.principal(key)
    await world.run(
        lambda uow: sessions.update_session(
            uow, principal, uuid.UUID(native["id"]), SessionChanges(title="renamed")
        )
    )
    item = data(await client.post(SESSION_LIST, json={}, headers=key.headers))["sessionList"][0]
    fresh = (await client.get(f"/v1/sessions/{native['id']}", headers=key.headers)).json()
    assert item["sessionId"] == native["id"] and item["name"] == "renamed"
    assert item["updateTime"] == ms(fresh["updated_at"]) > item["createTime"]


async def test_the_sdk_bearer_token_header_authenticates(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    await world.session(key, title="mine")
    headers = {"x-acs-bearer-token": key.key, "x-acs-signature-type": "BEARERTOKEN"}
    listed = data(await client.post(SESSION_LIST, json={}, headers=headers))
    assert [s["name"] for s in listed["sessionList"]] == ["mine"]


async def test_an_empty_body_uses_the_defaults(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    created = data(await client.post(SESSION_CREATE, headers=key.headers))
    listed = data(await client.post(SESSION_LIST, headers=key.headers))
    assert listed["sessionList"][0]["sessionId"] == created["sessionId"]
    assert listed["sessionList"][0]["name"] == ""
    assert (listed["currentPage"], listed["pageSize"]) == (1, 10)
