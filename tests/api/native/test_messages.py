"""Native messages: append (idempotent), list in append order, session clocks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _new_session(client: httpx.AsyncClient, key: Key) -> str:
    response = await client.post("/v1/sessions", headers=key.headers, json={"title": "chat"})
    sid: str = response.json()["id"]
    return sid


async def _post(
    client: httpx.AsyncClient, key: Key, sid: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return await client.post(
        f"/v1/sessions/{sid}/messages", headers={**key.headers, **headers}, json=body
    )


async def test_append_and_list_in_order(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    sid = await _new_session(client, key)
    turns = [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"), ("assistant", "A2")]
    for role, content in turns:
        response = await _post(
            client, key, sid, {"role": role, "content": content, "metadata": {"n": content}}
        )
        assert response.status_code == 201
        assert response.json()["session_id"] == sid
    url = f"/v1/sessions/{sid}/messages"
    page = (await client.get(url, headers=key.headers)).json()
    assert [(m["role"], m["content"]) for m in page["data"]] == turns
    assert page["data"][0]["metadata"] == {"n": "Q1"}
    newest = (await client.get(url, headers=key.headers, params={"newest_first": True})).json()
    assert [m["content"] for m in newest["data"]] == ["A2", "Q2", "A1", "Q1"]
    collected, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        chunk = (await client.get(url, headers=key.headers, params=params)).json()
        collected += [m["content"] for m in chunk["data"]]
        if not chunk["has_more"]:
            break
        cursor = chunk["next_cursor"]
    assert collected == ["Q1", "A1", "Q2", "A2"]
    session = (await client.get(f"/v1/sessions/{sid}", headers=key.headers)).json()
    assert session["message_count"] == 4
    assert session["last_message_at"] == page["data"][-1]["created_at"]


async def test_retry_with_idempotency_key_appends_once(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    sid = await _new_session(client, key)
    body = {"role": "user", "content": "only once"}
    first = await _post(client, key, sid, body, **{"Idempotency-Key": "req-1"})
    retry = await _post(client, key, sid, body, **{"Idempotency-Key": "req-1"})
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    listed = (await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)).json()
    assert len(listed["data"]) == 1
    session = (await client.get(f"/v1/sessions/{sid}", headers=key.headers)).json()
    assert session["message_count"] == 1


async def test_idempotency_key_reused_with_other_content_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    sid = await _new_session(client, key)
    await _post(client, key, sid, {"role": "user", "content": "a"}, **{"Idempotency-Key": "k"})
    clash = await _post(
        client, key, sid, {"role": "user", "content": "b"}, **{"Idempotency-Key": "k"}
    )
    assert clash.status_code == 422
    listed = (await client.get(f"/v1/sessions/{sid}/messages", headers=key.headers)).json()
    assert [m["content"] for m in listed["data"]] == ["a"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "wizard", "content": "x"}, "role"),
        ({"role": "user"}, "content"),
        ({"role": "user", "content": 42}, "content"),
        ({"role": "user", "content": "x" * 5000}, "content"),  # over the 4 KiB test limit
        ({"role": "user", "content": "é" * 2049}, "content"),  # limit counts UTF-8 bytes
        ({"role": "user", "content": "x", "session_id": "other"}, "session_id"),
    ],
)
async def test_invalid_message_is_422_and_not_stored(
    client: httpx.AsyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    key = await world.key(await world.tenant())
    sid = await _new_session(client, key)
    response = await _post(client, key, sid, body)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]
    session = (await client.get(f"/v1/sessions/{sid}", headers=key.headers)).json()
    assert session["message_count"] == 0 and session["last_message_at"] is None
