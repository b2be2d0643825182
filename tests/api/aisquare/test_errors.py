"""Every error the dialect answers, in DRF's shape: never problem+json, never a bare 500."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import anyio
import httpx
import pytest

from chatkeep.app import create_app
from chatkeep.core import tenants
from chatkeep.settings import Settings
from tests.api.aisquare.seed import LIST, detail_path, messages_path
from tests.factories import World

pytestmark = pytest.mark.anyio

JSON = "application/json"


def _assert_drf(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON


async def test_no_credentials_is_401_with_drfs_message(client: httpx.AsyncClient) -> None:
    response = await client.get(LIST)
    _assert_drf(response, 401)
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_unknown_scheme_counts_as_no_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get(LIST, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    _assert_drf(response, 401)
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer", "Invalid token header. No credentials provided."),
        ("Token ", "Invalid token header. No credentials provided."),
        ("Bearer ck_nope", "Invalid API key."),
        ("Token ck_0123456789abNOTAREALSECRET", "Invalid API key."),
    ],
)
async def test_bad_credentials_are_401_with_their_own_detail(
    client: httpx.AsyncClient, header: str, detail: str
) -> None:
    response = await client.get(LIST, headers={"Authorization": header})
    _assert_drf(response, 401)
    assert response.json() == {"detail": detail}
    assert "www-authenticate" in response.headers


async def test_revoked_and_expired_keys_are_401(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    revoked = await world.key(tenant)
    await world.run(lambda uow: tenants.revoke_api_key(uow, revoked.id))
    expired = await world.key(tenant, "bob", expires_in=timedelta(microseconds=1))
    first = await client.get(LIST, headers=revoked.headers)
    second = await client.get(LIST, headers=expired.headers)
    _assert_drf(first, 401)
    _assert_drf(second, 401)
    assert first.json() == {"detail": "This API key has been revoked."}
    assert second.json() == {"detail": "This API key has expired."}


@pytest.mark.parametrize(
    ("method", "path", "scopes"),
    [
        ("GET", LIST, ("sessions:write",)),
        ("POST", LIST, ("sessions:read",)),
        ("GET", messages_path(1), ("sessions:read", "sessions:write")),
    ],
)
async def test_missing_scope_is_403(
    client: httpx.AsyncClient, world: World, method: str, path: str, scopes: tuple[str, ...]
) -> None:
    key = await world.key(await world.tenant(), scopes=(*scopes, "messages:write"))
    made = await world.session(await world.key(key.tenant, "alice"))
    response = await client.request(
        method, path.replace("/1/", f"/{made.id}/"), headers=key.headers
    )
    _assert_drf(response, 403)
    assert set(response.json()) == {"detail"}
    assert "scope" in response.json()["detail"]


async def test_user_key_naming_another_user_is_403(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    response = await client.get(LIST, headers=key.headers, params={"user_id": "bob"})
    _assert_drf(response, 403)
    assert set(response.json()) == {"detail"}


async def test_invalid_domain_id_is_400_with_drfs_field_error(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    response = await client.get(LIST, headers=key.headers, params={"domain_id": "not-a-uuid"})
    _assert_drf(response, 400)
    assert response.json() == {"domain_id": ["Must be a valid UUID."]}


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": "x"}, "limit"), ({"limit": 101}, "limit"),
     ({"offset": -1}, "offset"), ({"user_id": ""}, "user_id")],
)  # fmt: skip
async def test_bad_query_parameters_are_400_field_errors(
    client: httpx.AsyncClient, world: World, params: dict[str, object], field: str
) -> None:
    key = await world.key(await world.tenant(), service=True)
    response = await client.get(LIST, headers=key.headers, params=params)
    _assert_drf(response, 400)
    body = response.json()
    assert list(body) == [field] and isinstance(body[field], list) and body[field]


@pytest.mark.parametrize(
    "path", [detail_path(999_999), "/api/v1/qllm/chat-sessions/abc/", detail_path(2**64)]
)
async def test_unknown_session_is_404_not_found(
    client: httpx.AsyncClient, world: World, path: str
) -> None:
    key = await world.key(await world.tenant())
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, path, headers=key.headers, json={})
        _assert_drf(response, 404)
        assert response.json() == {"detail": "Not found."}


async def test_unknown_path_under_the_prefix_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/qllm/domain/by-url/")  # AISquare's, not served
    _assert_drf(response, 404)
    assert response.json() == {"detail": "Not found."}


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    response = await client.put(LIST, headers=key.headers, json={})
    _assert_drf(response, 405)
    assert response.json() == {"detail": 'Method "PUT" not allowed.'}
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


async def test_oversized_body_is_413(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(LIST, headers=key.headers, json={"title": "x" * 70_000})
    _assert_drf(response, 413)
    assert set(response.json()) == {"detail"}


async def test_malformed_json_is_400_detail(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(
        LIST, headers={**key.headers, "Content-Type": JSON}, content=b"{not json"
    )
    _assert_drf(response, 400)
    assert set(response.json()) == {"detail"}


def _unreachable(url: str, tmp_path: Path) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{tmp_path}/missing-dir/chatkeep.db"
    return "postgresql://postgres@127.0.0.1:1/chatkeep"  # nothing listens on port 1


async def test_database_outage_is_503_with_retry_after(
    settings: Settings, tmp_path: Path, database_url: str
) -> None:
    broken = settings.model_copy(update={"database_url": _unreachable(database_url, tmp_path)})
    app = create_app(broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as c:
        response = await c.get(LIST, headers={"Authorization": "Bearer ck_0123456789ab" + "x" * 40})
    await app.state.chatkeep.engine.dispose()
    # aiosqlite stops a failed connection's thread without awaiting it; let it report back
    # while this test's event loop is still open.
    await anyio.sleep(0.05)
    _assert_drf(response, 503)
    assert set(response.json()) == {"detail"}
    assert response.headers["retry-after"] == "1"
