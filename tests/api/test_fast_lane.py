"""The fast lane answers the hot lists exactly as the full path does, or leaves them to it.

Each request goes to two apps over one database: the default one (fast lane on) and one
with ``fast_lane=False``. Status, content type and body must be identical (request ids
aside); where the lane is meant to answer, the app's SQLAlchemy engine must not have run
a statement, so a lane that quietly always fell through fails here too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event

from chatkeep.api.web_session import SESSION_COOKIE
from chatkeep.app import create_app
from chatkeep.core import messages, sessions
from chatkeep.core.types import NewMessage, SessionChanges
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

AISQUARE = "/api/v1/qllm/chat-sessions/"
AIDOC = "/api/v2/aidoc/document/chat/session/list"
NATIVE = "/v1/sessions"
TEXT, JSON = {"content-type": "text/plain"}, {"content-type": "application/json"}
REQUEST_IDS = re.compile(rb'"requestId":"[0-9A-F-]{36}"')


@pytest.fixture
async def reference(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The full path alone, on the same database as ``client``."""
    application = create_app(settings.model_copy(update={"fast_lane": False}))
    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as c:
            yield c
    finally:
        await application.state.chatkeep.engine.dispose()


class EngineStatements:
    """Counts the statements an app's engine runs (the lane runs none through it)."""

    def __init__(self, app: FastAPI) -> None:
        self.count = 0
        state: Runtime = app.state.chatkeep
        event.listen(state.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


async def same_answer(
    client: httpx.AsyncClient, reference: httpx.AsyncClient, method: str, path: str, **kw: Any
) -> httpx.Response:
    got = await client.request(method, path, **kw)
    want = await reference.request(method, path, **kw)
    assert (got.status_code, got.headers.get("content-type")) == (
        want.status_code, want.headers.get("content-type"),
    )  # fmt: skip
    assert REQUEST_IDS.sub(b"", got.content) == REQUEST_IDS.sub(b"", want.content)
    if b'"requestId"' in got.content:  # AI-doc: the header names the body's id
        assert got.headers["x-acs-request-id"] == got.json()["requestId"]
    return got


async def populate(world: World) -> tuple[Key, Key, uuid.UUID]:
    """Two users of one tenant: pinned, archived, renamed, in two domains, with messages."""
    tenant = await world.tenant()
    alice, bob = await world.key(tenant, "alice"), await world.key(tenant, "bob")
    sales = await world.domain(tenant, "Sales")
    principal = await world.principal(alice)
    for n in range(7):
        found = await world.session(
            alice, title=f"chat {n} 中文", domain_id=sales.id if n % 2 else None
        )
        if n % 3 == 0:
            await world.run(lambda uow, s=found: messages.append_message(
                uow, principal, s.uuid, NewMessage(role="user", content="hi")))  # fmt: skip
        if n in (2, 5):
            changes = SessionChanges(is_pinned=n == 2, archived=n == 5, system_context="ctx")
            await world.run(lambda uow, s=found, c=changes: sessions.update_session(
                uow, principal, s.uuid, c))  # fmt: skip
    await world.session(bob, title="bob's own")
    return alice, bob, sales.id


async def test_hot_lists_are_answered_by_the_lane_exactly_as_by_the_full_path(
    app: FastAPI, client: httpx.AsyncClient, reference: httpx.AsyncClient, world: World
) -> None:
    alice, bob, sales = await populate(world)
    other = await world.domain(await world.tenant(), "Elsewhere")
    statements = EngineStatements(app)
    token = {"Authorization": f"Token {alice.key}"}  # DRF's scheme
    sdk = {"x-acs-bearer-token": alice.key}
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", AISQUARE, {"headers": alice.headers}),
        ("GET", AISQUARE, {"headers": token}),
        ("GET", AISQUARE, {"headers": bob.headers}),
        ("GET", f"{AISQUARE}?domain_id=", {"headers": alice.headers}),
        ("GET", f"{AISQUARE}?domain_id={sales}", {"headers": alice.headers}),
        ("GET", f"{AISQUARE}?domain_id={str(sales).upper()}", {"headers": alice.headers}),
        ("GET", f"{AISQUARE}?domain_id={other.id}", {"headers": alice.headers}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {}}),
        ("POST", AIDOC, {"headers": sdk, "json": {"currentPage": 1, "pageSize": 3}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"currentPage": 3, "pageSize": 2}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"current_page": 2, "page_size": 4}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"currentPage": 99, "pageSize": 100}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"userId": "alice", "extra": [1]}}),
        ("POST", AIDOC, {"headers": bob.headers, "json": {"pageSize": 1}}),
        ("GET", NATIVE, {"headers": alice.headers}),
        ("GET", f"{NATIVE}?limit=100", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?limit=1", {"headers": bob.headers}),
    ]
    bodies = []
    for method, path, kw in cases:
        bodies.append((await same_answer(client, reference, method, path, **kw)).json())
    assert statements.count == 0  # every one answered by the lane
    assert [s["title"] for s in bodies[0]][:1] == ["chat 2 中文"]  # pinned first
    assert "chat 5 中文" not in {s["title"] for s in bodies[0]}  # archived: not listed
    assert {s["title"] for s in bodies[2]} == {"bob's own"}
    assert {s["domain_id"] for s in bodies[4]} == {str(sales)} and bodies[6] == []
    assert bodies[7]["data"]["total"] == 6 and len(bodies[9]["data"]["sessionList"]) == 2
    assert bodies[11]["data"]["sessionList"] == [] and bodies[11]["data"]["total"] == 6
    assert len(bodies[14]["data"]) == 6 and bodies[14]["has_more"] is False


@pytest.mark.parametrize("limit", [1, 2, 4])
async def test_native_pages_after_a_cursor_are_the_full_paths_pages(
    app: FastAPI, client: httpx.AsyncClient, reference: httpx.AsyncClient, world: World,
    limit: int,
) -> None:  # fmt: skip
    alice, _bob, _sales = await populate(world)
    principal = await world.principal(alice)
    for title in ("pinned too", "pinned three"):  # pages that start after a pinned row
        made = await world.session(alice, title=title)
        await world.run(lambda uow, s=made: sessions.update_session(
            uow, principal, s.uuid, SessionChanges(is_pinned=True)))  # fmt: skip
    statements = EngineStatements(app)
    seen: list[str] = []
    path = f"{NATIVE}?limit={limit}"
    while True:
        page = (await same_answer(client, reference, "GET", path, headers=alice.headers)).json()
        seen += [s["title"] for s in page["data"]]
        if not page["has_more"]:
            break
        path = f"{NATIVE}?limit={limit}&cursor={page['next_cursor']}"
    assert statements.count == 0
    assert seen[:3] == ["pinned three", "pinned too", "chat 2 中文"] and len(seen) == 8
    assert len(set(seen)) == len(seen)


async def test_everything_else_falls_through_to_the_full_path_unchanged(
    app: FastAPI, client: httpx.AsyncClient, reference: httpx.AsyncClient, world: World
) -> None:
    alice, bob, _sales = await populate(world)
    tenant = alice.tenant
    revoked = await world.key(tenant, "carol")
    await world.run(lambda uow: _revoke(uow, revoked))
    expired = await world.key(tenant, "dave", expires_in=timedelta(seconds=-1))
    writer = await world.key(tenant, "erin", scopes=("sessions:write",))
    service = await world.key(tenant, "svc", service=True)
    wrong = {"Authorization": f"Bearer {alice.key[:-1]}x"}
    padded = b'{"currentPage": 1' + b" " * 5000 + b"}"
    await world.session(bob, title="bob's second")
    bob_page = await reference.get(f"{NATIVE}?limit=1", headers=bob.headers)
    bob_cursor = bob_page.json()["next_cursor"]
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", AISQUARE, {}),
        ("GET", AISQUARE, {"headers": wrong}),
        ("GET", AISQUARE, {"headers": {"Authorization": "Bearer"}}),
        ("GET", AISQUARE, {"headers": revoked.headers}),
        ("GET", AISQUARE, {"headers": expired.headers}),
        ("GET", AISQUARE, {"headers": writer.headers}),
        ("GET", f"{AISQUARE}?domain_id=nope", {"headers": alice.headers}),
        ("GET", f"{AISQUARE}?limit=2", {"headers": alice.headers}),
        ("GET", f"{AISQUARE}?domain_id=&domain_id=", {"headers": alice.headers}),
        ("GET", f"{AISQUARE}?user_id=alice", {"headers": service.headers}),
        ("POST", AIDOC, {"headers": wrong, "json": {}}),
        ("POST", AIDOC, {"headers": writer.headers, "json": {}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"pageSize": 101}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"currentPage": "1"}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"currentPage": 2**70}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"name": "chat"}}),
        ("POST", AIDOC, {"headers": service.headers, "json": {"userId": "alice"}}),
        ("POST", AIDOC, {"headers": alice.headers, "json": {"userId": "bob"}}),
        ("POST", AIDOC, {"headers": alice.headers, "content": b"{"}),
        ("POST", AIDOC, {"headers": {**alice.headers, **TEXT}, "content": b"{}"}),
        ("POST", AIDOC, {"headers": {**alice.headers, **JSON}, "content": padded}),
        ("GET", NATIVE, {"headers": {"Authorization": f"Token {alice.key}"}}),
        ("GET", NATIVE, {"headers": wrong}),
        ("GET", NATIVE, {"headers": revoked.headers}),
        ("GET", NATIVE, {"headers": writer.headers}),
        ("GET", NATIVE, {"headers": {"Cookie": f"{SESSION_COOKIE}=nope"}}),
        ("GET", f"{NATIVE}?limit=0", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?limit=101", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?limit=+2", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?limit=2&limit=3", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?order=title", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?cursor=", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?cursor=garbage", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?cursor={bob_cursor}", {"headers": alice.headers}),
        ("GET", f"{NATIVE}?user_id=alice", {"headers": service.headers}),
    ]
    for method, path, kw in cases:
        await same_answer(client, reference, method, path, **kw)


async def test_a_list_too_long_for_one_piece_is_streamed_by_the_full_path(
    client: httpx.AsyncClient, reference: httpx.AsyncClient, world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    alice, _bob, _sales = await populate(world)
    monkeypatch.setattr("chatkeep.api.fast_lane.aisquare.SMALL_LIST", 3)
    monkeypatch.setattr("chatkeep.api.aisquare.sessions.SMALL_LIST", 3)
    response = await same_answer(client, reference, "GET", AISQUARE, headers=alice.headers)
    assert len(response.json()) == 6
    assert "content-length" not in response.headers  # streamed


async def test_lane_answers_are_labelled_like_the_full_paths_in_metrics(
    client: httpx.AsyncClient, world: World
) -> None:
    alice, _bob, _sales = await populate(world)
    await client.get(AISQUARE, headers=alice.headers)
    await client.post(AIDOC, headers=alice.headers, json={})
    metrics = (await client.get("/metrics")).text
    for route, method in ((AISQUARE, "GET"), (AIDOC, "POST")):
        assert f'method="{method}",route="{route}",status="200"' in metrics


async def _revoke(uow: Any, key: Key) -> None:
    from chatkeep.core.clock import utcnow
    from chatkeep.core.repository import accounts

    await accounts.revoke_api_key(uow.db, key.id, utcnow())


def _messages(session_id: object) -> str:
    return f"{NATIVE}/{session_id}/messages"


async def test_appends_are_committed_by_the_lane_exactly_as_by_the_full_path(
    app: FastAPI, client: httpx.AsyncClient, reference: httpx.AsyncClient, world: World
) -> None:
    """Each append goes to both apps (two messages each): the answers must match but
    for the message id, and the session's counters and clocks move as on the full path."""
    alice, _bob, _sales = await populate(world)
    lane_session = await world.session(alice, title="lane")
    full_session = await world.session(alice, title="full")
    statements = EngineStatements(app)
    for body in ({"role": "user", "content": "Hi 中文"}, {"role": "assistant", "content": "Yo"},
                 {"role": "tool", "content": "{}", "metadata": {"n": [1, {"x": None}]}},
                 {"role": "user", "content": "again"}):  # fmt: skip
        got = await client.post(_messages(lane_session.uuid), headers=alice.headers, json=body)
        want = await reference.post(_messages(full_session.uuid), headers=alice.headers, json=body)
        assert got.status_code == want.status_code == 201
        a, b = got.json(), want.json()
        assert a.pop("session_id") == str(lane_session.uuid)
        assert b.pop("session_id") == str(full_session.uuid)
        assert a.keys() == b.keys() and a["id"] != b["id"]
        for key in ("role", "content", "metadata", "answer"):
            assert a[key] == b[key]
    assert statements.count == 0
    listed = (await reference.get(NATIVE, headers=alice.headers)).json()["data"]
    by_title = {s["title"]: s for s in listed}
    lane, full = by_title["lane"], by_title["full"]
    assert lane["message_count"] == full["message_count"] == 4
    assert lane["last_message_at"] is not None and lane["updated_at"] == lane["last_message_at"]
    for path in (
        f"{NATIVE}/{lane_session.uuid}/messages",
        f"{NATIVE}/{full_session.uuid}/messages",
    ):
        shown = (await reference.get(path, headers=alice.headers)).json()["data"]
        assert [m["content"] for m in shown] == ["Hi 中文", "Yo", "{}", "again"]
    pairs = [(await reference.post("/api/v2/aidoc/document/chat/list", headers=alice.headers,
                                   json={"sessionId": str(s.uuid)})).json()["data"]["total"]
             for s in (lane_session, full_session)]  # fmt: skip
    assert pairs[0] == pairs[1]


async def test_appends_the_lane_does_not_take_fall_through_unchanged(
    client: httpx.AsyncClient, reference: httpx.AsyncClient, world: World
) -> None:
    alice, bob, _sales = await populate(world)
    mine = await world.session(alice, title="mine")
    theirs = await world.session(bob, title="theirs")
    reader = await world.key(alice.tenant, "alice", scopes=("sessions:read",))
    service = await world.key(alice.tenant, "svc", service=True)
    ok = {"role": "user", "content": "hi"}
    cases: list[tuple[str, dict[str, Any]]] = [
        (_messages(theirs.uuid), {"headers": alice.headers, "json": ok}),  # bob's: 404
        (_messages(uuid.uuid4()), {"headers": alice.headers, "json": ok}),
        (_messages("not-a-uuid"), {"headers": alice.headers, "json": ok}),
        (_messages(mine.uuid), {"headers": reader.headers, "json": ok}),  # no write scope
        (_messages(mine.uuid), {"json": ok}),
        (_messages(mine.uuid), {"headers": alice.headers, "json": {"role": "boss", "content": ""}}),
        (_messages(mine.uuid), {"headers": alice.headers, "json": {**ok, "extra": 1}}),
        (_messages(mine.uuid), {"headers": alice.headers, "json": {"role": "user", "content": 5}}),
        (_messages(mine.uuid), {"headers": alice.headers, "json": {**ok, "content": "x" * 5000}}),
        (_messages(mine.uuid), {"headers": alice.headers, "json": {**ok, "content": "a\x00b"}}),
        (_messages(mine.uuid), {"headers": {**alice.headers, **TEXT}, "content": b"{}"}),
        (f"{_messages(uuid.uuid4())}?user_id=bob", {"headers": service.headers, "json": ok}),
    ]
    for path, kw in cases:
        response = await same_answer(client, reference, "POST", path, **kw)
        assert response.status_code >= 400
    listed = (await reference.get(NATIVE, headers=alice.headers)).json()["data"]
    assert {s["title"]: s["message_count"] for s in listed}["mine"] == 0  # nothing stored
