"""Native sessions: create, read, list (filters, orders, cursors), update, delete."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _create(client: httpx.AsyncClient, key: Key, **body: Any) -> dict[str, Any]:
    response = await client.post("/v1/sessions", headers=key.headers, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _titles(client: httpx.AsyncClient, key: Key, **params: Any) -> list[str]:
    response = await client.get("/v1/sessions", headers=key.headers, params=params)
    assert response.status_code == 200, response.text
    return [s["title"] for s in response.json()["data"]]


async def _patch(client: httpx.AsyncClient, key: Key, sid: str, **body: Any) -> httpx.Response:
    return await client.patch(f"/v1/sessions/{sid}", headers=key.headers, json=body)


async def _say(client: httpx.AsyncClient, key: Key, sid: str, content: str = "hi") -> None:
    response = await client.post(
        f"/v1/sessions/{sid}/messages",
        headers=key.headers,
        json={"role": "user", "content": content},
    )
    assert response.status_code == 201, response.text


async def test_create_returns_the_session_with_location(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(
        "/v1/sessions",
        headers=key.headers,
        json={"title": "Spelling", "system_context": "Be brief.", "metadata": {"app": "x"}},
    )
    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"/v1/sessions/{body['id']}"
    assert body["title"] == "Spelling"
    assert body["system_context"] == "Be brief."
    assert body["metadata"] == {"app": "x"}
    assert body["domain_name"] == "Default"
    assert body["user_id"] == "alice"
    assert (body["is_pinned"], body["archived"], body["message_count"]) == (False, False, 0)
    assert body["last_message_at"] is None and body["pinned_at"] is None
    assert body["created_at"] == body["updated_at"]
    assert isinstance(body["int_id"], int)
    again = await client.get(f"/v1/sessions/{body['id']}", headers=key.headers)
    assert again.json() == body


async def test_recent_order_is_pinned_first_then_activity(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    a = await _create(client, key, title="a")
    b = await _create(client, key, title="b")
    c = await _create(client, key, title="c")
    assert await _titles(client, key) == ["c", "b", "a"]
    await _say(client, key, a["id"])  # activity moves a to the top
    assert await _titles(client, key) == ["a", "c", "b"]
    assert (await _patch(client, key, b["id"], is_pinned=True)).status_code == 200
    assert await _titles(client, key) == ["b", "a", "c"]
    await _patch(client, key, c["id"], is_pinned=True)  # most recently pinned first
    assert await _titles(client, key) == ["c", "b", "a"]
    await _patch(client, key, c["id"], is_pinned=False)  # back to its place by activity
    assert await _titles(client, key) == ["b", "a", "c"]


async def test_rename_and_archive_keep_the_recent_order(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    a = await _create(client, key, title="a")
    await _create(client, key, title="b")
    renamed = await _patch(client, key, a["id"], title="a2", system_context="new")
    assert renamed.status_code == 200
    assert await _titles(client, key) == ["b", "a2"]
    await _patch(client, key, a["id"], archived=True)
    await _patch(client, key, a["id"], archived=False)
    assert await _titles(client, key) == ["b", "a2"]


async def test_the_three_clocks_stay_apart(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    s = await _create(client, key, title="clocks")
    renamed = (await _patch(client, key, s["id"], title="renamed")).json()
    assert renamed["updated_at"] > s["updated_at"]
    assert renamed["last_message_at"] is None and renamed["pinned_at"] is None
    pinned = (await _patch(client, key, s["id"], is_pinned=True)).json()
    assert pinned["pinned_at"] == pinned["updated_at"]
    assert pinned["last_message_at"] is None
    await _say(client, key, s["id"])
    after = (await client.get(f"/v1/sessions/{s['id']}", headers=key.headers)).json()
    assert after["last_message_at"] == after["updated_at"] > pinned["updated_at"]
    assert after["pinned_at"] == pinned["pinned_at"]
    assert after["message_count"] == 1


async def test_filters(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    docs = await world.domain(tenant, "Docs")
    await _create(client, key, title="100% done", domain_id=str(docs.id))
    await _create(client, key, title="snake_case names")
    await _create(client, key, title="Spelling QUIZ")
    old = await _create(client, key, title="old quiz")
    await _patch(client, key, old["id"], archived=True)
    assert await _titles(client, key, q="quiz") == ["Spelling QUIZ"]
    assert await _titles(client, key, q="QUIZ", archived=True) == ["old quiz"]
    assert await _titles(client, key, q="%") == ["100% done"]  # % is literal
    assert await _titles(client, key, q="e_c") == ["snake_case names"]  # _ is literal
    assert await _titles(client, key, q="s_c") == []
    assert await _titles(client, key, domain_id=str(docs.id)) == ["100% done"]
    await _patch(client, key, old["id"], is_pinned=True)
    assert await _titles(client, key, pinned=True, archived=True) == ["old quiz"]
    assert await _titles(client, key, pinned=True) == []


async def test_orders(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    for title in ("b", "c", "a"):
        await _create(client, key, title=title)
    assert await _titles(client, key, order="created") == ["b", "c", "a"]
    assert await _titles(client, key, order="-created") == ["a", "c", "b"]
    assert await _titles(client, key, order="title") == ["a", "b", "c"]


@pytest.mark.parametrize("order", ["recent", "created", "-created", "title"])
async def test_pages_never_repeat_or_skip_when_sessions_are_added(
    client: httpx.AsyncClient, world: World, order: str
) -> None:
    key = await world.key(await world.tenant())
    original = {(await _create(client, key, title=f"s{i:02}"))["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"order": order, "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/sessions", headers=key.headers, params=params)).json()
        seen += [s["id"] for s in page["data"]]
        await _create(client, key, title=f"new {len(seen)}")  # concurrent insert
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen))
    assert original <= set(seen)


async def test_tampered_or_foreign_cursor_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    for i in range(3):
        await _create(client, key, title=f"s{i}")
    page = (await client.get("/v1/sessions", headers=key.headers, params={"limit": 1})).json()
    cursor = page["next_cursor"]
    body, sig = cursor.split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig
    for bad in (tampered, "garbage", "a.b.c", cursor + "x"):
        r = await client.get("/v1/sessions", headers=key.headers, params={"cursor": bad})
        assert r.status_code == 422, bad
        assert r.json()["errors"][0]["field"] == "cursor"
    other_query = await client.get(
        "/v1/sessions", headers=key.headers, params={"cursor": cursor, "order": "title"}
    )
    assert other_query.status_code == 422
    assert "different query" in other_query.json()["errors"][0]["message"]


async def test_delete_removes_the_session_and_its_messages(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    s = await _create(client, key, title="doomed")
    await _say(client, key, s["id"])
    assert (await client.delete(f"/v1/sessions/{s['id']}", headers=key.headers)).status_code == 204
    for path in (f"/v1/sessions/{s['id']}", f"/v1/sessions/{s['id']}/messages"):
        assert (await client.get(path, headers=key.headers)).status_code == 404
    assert await _titles(client, key) == []
    again = await client.delete(f"/v1/sessions/{s['id']}", headers=key.headers)
    assert again.status_code == 404


async def test_move_to_another_domain(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    docs = await world.domain(tenant, "Docs")
    s = await _create(client, key, title="mover")
    moved = await _patch(client, key, s["id"], domain_id=str(docs.id))
    assert (moved.json()["domain_id"], moved.json()["domain_name"]) == (str(docs.id), "Docs")
    unknown = await _patch(client, key, s["id"], domain_id=str(uuid.uuid4()))
    assert unknown.status_code == 404
