"""Every bounded request field, in every dialect: at its maximum it is accepted, one past
it is refused in the dialect's own error format, and nothing is stored.

The table below is the README's limits table, executable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from chatkeep.core.limits import (
    CURSOR_MAX,
    METADATA_DEPTH_MAX,
    METADATA_MAX_BYTES,
    PAGE_MAX,
    REFERENCES_MAX,
    SYSTEM_CONTEXT_MAX,
)
from chatkeep.core.models import NAME_MAX, TITLE_MAX, USER_ID_MAX
from chatkeep.settings import Settings
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

MESSAGE_MAX = 4096  # the shared settings fixture's max_message_bytes
NATIVE_SESSIONS = "/v1/sessions"
AISQUARE_SESSIONS = "/api/v1/qllm/chat-sessions/"
AIDOC = "/api/v2/aidoc/document/chat"
IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True)
class Ctx:
    key: Key  # a service key, so user_id parameters are allowed
    session_uuid: str
    session_int: int


Build = Callable[[Ctx, int], dict[str, Any]]  # → httpx.request keyword arguments


@dataclass(frozen=True)
class Bound:
    dialect: str
    field: str  # how the refusal names it
    maximum: int
    build: Build
    table: str | None = None  # where an accepted request would store a row


def text(n: int) -> str:
    return "x" * n


def sized_metadata(n: int) -> dict[str, Any]:
    return {"k": text(n - len('{"k":""}'))}  # serialises to exactly n bytes


def nested_metadata(n: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(n - 1):
        value = {"a": value}
    return value  # n levels of objects


def post(path: str, body: Callable[[int], dict[str, Any]]) -> Build:
    return lambda ctx, n: {"method": "POST", "url": path, "json": body(n)}


def get(path: str, params: Callable[[int], dict[str, Any]]) -> Build:
    return lambda ctx, n: {"method": "GET", "url": path, "params": params(n)}


def native_message(body: Callable[[int], dict[str, Any]]) -> Build:
    return lambda ctx, n: {
        "method": "POST", "url": f"{NATIVE_SESSIONS}/{ctx.session_uuid}/messages", "json": body(n)
    }  # fmt: skip


def aisquare_message(ctx: Ctx, n: int) -> dict[str, Any]:
    url = f"{AISQUARE_SESSIONS}{ctx.session_int}/messages/"
    return {"method": "POST", "url": url, "json": {"role": "user", "content": text(n)}}


def idempotent_append(ctx: Ctx, n: int) -> dict[str, Any]:
    return {
        "method": "POST", "url": f"{NATIVE_SESSIONS}/{ctx.session_uuid}/messages",
        "json": {"role": "user", "content": "hi"}, "headers": {"Idempotency-Key": text(n)},
    }  # fmt: skip


BOUNDS = {
    # native
    "native title": Bound("native", "title", TITLE_MAX,
        post(NATIVE_SESSIONS, lambda n: {"title": text(n)}), "sessions"),
    "native system_context": Bound("native", "system_context", SYSTEM_CONTEXT_MAX,
        post(NATIVE_SESSIONS, lambda n: {"system_context": text(n)}), "sessions"),
    "native user_id": Bound("native", "user_id", USER_ID_MAX,
        post(NATIVE_SESSIONS, lambda n: {"user_id": text(n)}), "sessions"),
    "native metadata bytes": Bound("native", "metadata", METADATA_MAX_BYTES,
        post(NATIVE_SESSIONS, lambda n: {"metadata": sized_metadata(n)}), "sessions"),
    "native metadata depth": Bound("native", "metadata", METADATA_DEPTH_MAX,
        post(NATIVE_SESSIONS, lambda n: {"metadata": nested_metadata(n)}), "sessions"),
    "native references": Bound("native", "metadata", REFERENCES_MAX,
        native_message(lambda n: {"role": "assistant", "content": "a",
                                  "metadata": {"references": [{}] * n}}), "messages"),
    "native message content": Bound("native", "content", MESSAGE_MAX,
        native_message(lambda n: {"role": "user", "content": text(n)}), "messages"),
    "native idempotency key": Bound("native", "dempotency", IDEMPOTENCY_KEY_MAX,
        idempotent_append, "messages"),
    "native domain name": Bound("native", "name", NAME_MAX,
        post("/v1/domains", lambda n: {"name": text(n)}), "domains"),
    "native list limit": Bound("native", "limit", PAGE_MAX,
        get(NATIVE_SESSIONS, lambda n: {"limit": n})),
    "native list q": Bound("native", "q", 512, get(NATIVE_SESSIONS, lambda n: {"q": text(n)})),
    "native list user_id": Bound("native", "user_id", USER_ID_MAX,
        get(NATIVE_SESSIONS, lambda n: {"user_id": text(n)})),
    "native message page": Bound("native", "limit", PAGE_MAX,
        lambda ctx, n: {"method": "GET", "params": {"limit": n},
                        "url": f"{NATIVE_SESSIONS}/{ctx.session_uuid}/messages"}),
    # AISquare
    "aisquare title": Bound("aisquare", "title", TITLE_MAX,
        post(AISQUARE_SESSIONS, lambda n: {"title": text(n)}), "sessions"),
    "aisquare system_context": Bound("aisquare", "system_context", SYSTEM_CONTEXT_MAX,
        post(AISQUARE_SESSIONS, lambda n: {"system_context": text(n)}), "sessions"),
    "aisquare message content": Bound("aisquare", "content", MESSAGE_MAX,
        aisquare_message, "messages"),
    "aisquare limit": Bound("aisquare", "limit", PAGE_MAX,
        get(AISQUARE_SESSIONS, lambda n: {"limit": n})),
    "aisquare user_id": Bound("aisquare", "user_id", USER_ID_MAX,
        get(AISQUARE_SESSIONS, lambda n: {"user_id": text(n)})),
    # AI-doc
    "aidoc create name": Bound("aidoc", "Name", TITLE_MAX,
        post(f"{AIDOC}/session/create", lambda n: {"name": text(n)}), "sessions"),
    "aidoc create userId": Bound("aidoc", "UserId", USER_ID_MAX,
        post(f"{AIDOC}/session/create", lambda n: {"userId": text(n)}), "sessions"),
    "aidoc list name": Bound("aidoc", "Name", TITLE_MAX,
        post(f"{AIDOC}/session/list", lambda n: {"name": text(n)})),
    "aidoc list pageSize": Bound("aidoc", "PageSize", PAGE_MAX,
        post(f"{AIDOC}/session/list", lambda n: {"pageSize": n})),
    "aidoc chat list pageSize": Bound("aidoc", "PageSize", PAGE_MAX,
        lambda ctx, n: {"method": "POST", "url": f"{AIDOC}/list",
                        "json": {"sessionId": ctx.session_uuid, "pageSize": n}}),
    "aidoc folder name": Bound("aidoc", "FolderName", NAME_MAX,
        post("/api/v1/aidoc/folder/add", lambda n: {"folderName": text(n)}), "domains"),
}  # fmt: skip


def assert_refused(bound: Bound, response: httpx.Response) -> None:
    body = response.json()
    if bound.dialect == "native":
        assert response.status_code == 422, response.text
        assert any(bound.field in e["field"] for e in body["errors"]), body
    elif bound.dialect == "aisquare":
        assert response.status_code == 400, response.text
        assert bound.field in body, body
    else:
        assert response.status_code == 400, response.text
        assert body["code"] == f"InvalidParameter.{bound.field}", body


async def rows(world: World, table: str | None) -> int:
    if table is None:
        return 0
    count = await world.run(lambda uow: uow.db.scalar(sa.text(f"SELECT count(*) FROM {table}")))
    return int(count)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Room for a maximal system context (64 Ki characters) inside one body."""
    return settings.model_copy(update={"max_body_bytes": 256 * 1024})


@pytest.fixture
async def ctx(world: World) -> Ctx:
    key = await world.key(await world.tenant(), service=True)
    session = await world.session(key, title="target")
    return Ctx(key, str(session.uuid), session.id)


async def send(client: httpx.AsyncClient, ctx: Ctx, request: dict[str, Any]) -> httpx.Response:
    headers = {**ctx.key.headers, **request.pop("headers", {})}
    return await client.request(**request, headers=headers)


@pytest.mark.parametrize("name", sorted(BOUNDS))
async def test_a_field_at_its_maximum_is_accepted_and_one_past_it_is_refused(
    name: str, client: httpx.AsyncClient, world: World, ctx: Ctx
) -> None:
    bound = BOUNDS[name]
    accepted = await send(client, ctx, bound.build(ctx, bound.maximum))
    assert accepted.status_code in (200, 201), accepted.text
    before = await rows(world, bound.table)
    refused = await send(client, ctx, bound.build(ctx, bound.maximum + 1))
    assert_refused(bound, refused)
    assert await rows(world, bound.table) == before  # nothing stored


async def test_an_overlong_cursor_is_refused_before_decoding(
    client: httpx.AsyncClient, ctx: Ctx
) -> None:
    at_max = await client.get(
        NATIVE_SESSIONS, headers=ctx.key.headers, params={"cursor": text(CURSOR_MAX)}
    )
    past = await client.get(
        NATIVE_SESSIONS, headers=ctx.key.headers, params={"cursor": text(CURSOR_MAX + 1)}
    )
    # At the maximum it is read (and found not to be a cursor); past it, its length is refused.
    assert [e["field"] for e in at_max.json()["errors"]] == ["cursor"]
    assert [e["field"] for e in past.json()["errors"]] == ["query.cursor"]
