"""Every failure in Alibaba's shape and code, on both databases; none changes anything."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatkeep.app import create_app
from chatkeep.core import tenants
from chatkeep.core.repository import accounts
from chatkeep.settings import Settings
from tests.api.aidoc.wire import (
    CHAT_LIST,
    FOLDER_ADD,
    FOLDER_LIST,
    SESSION_CREATE,
    SESSION_LIST,
    data,
    error,
)
from tests.factories import World

pytestmark = pytest.mark.anyio

BAD_BODIES: list[tuple[str, Any, str, str]] = [
    (SESSION_LIST, b"{not json", "InvalidParameter.Body", "not valid JSON"),
    (SESSION_LIST, b"[1, 2]", "InvalidParameter.Body", "JSON object"),
    (SESSION_LIST, {"currentPage": "1"}, "InvalidParameter.CurrentPage", "integer"),
    (SESSION_LIST, {"currentPage": 0}, "InvalidParameter.CurrentPage", "greater than"),
    (SESSION_LIST, {"currentPage": -3}, "InvalidParameter.CurrentPage", "greater than"),
    (SESSION_LIST, {"pageSize": 0}, "InvalidParameter.PageSize", "greater than"),
    (SESSION_LIST, {"pageSize": 101}, "InvalidParameter.PageSize", "less than or equal to 100"),
    (SESSION_LIST, {"pageSize": 2.5}, "InvalidParameter.PageSize", "integer"),
    (SESSION_LIST, {"pageSize": True}, "InvalidParameter.PageSize", "integer"),
    (SESSION_LIST, {"name": "x" * 513}, "InvalidParameter.Name", "at most 512"),
    (SESSION_LIST, {"name": 7}, "InvalidParameter.Name", "string"),
    (SESSION_LIST, {"userId": "u" * 129}, "InvalidParameter.UserId", "at most 128"),
    (SESSION_CREATE, {"name": "x" * 513}, "InvalidParameter.Name", "at most 512"),
    (SESSION_CREATE, {"folderId": "nope"}, "InvalidParameter.FolderId", "UUID"),
    (SESSION_CREATE, {"name": ["a"]}, "InvalidParameter.Name", "string"),
    (CHAT_LIST, {}, "MissingParameter", '"sessionId"'),
    (CHAT_LIST, {"sessionId": "abc"}, "InvalidParameter.SessionId", "UUID"),
    (FOLDER_ADD, {"folderName": None}, "InvalidParameter.FolderName", "string"),
]


@pytest.mark.parametrize(("path", "body", "code", "phrase"), BAD_BODIES)
async def test_bad_input_is_a_clear_400(
    client: httpx.AsyncClient, world: World, path: str, body: Any, code: str, phrase: str
) -> None:
    key = await world.key(await world.tenant())
    if isinstance(body, bytes):
        headers = {**key.headers, "content-type": "application/json; charset=utf-8"}
        response = await client.post(path, content=body, headers=headers)
    else:
        response = await client.post(path, json=body, headers=key.headers)
    assert phrase in error(response, 400, code)["message"]


async def test_a_form_body_is_refused(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    response = await client.post(SESSION_LIST, data={"pageSize": "5"}, headers=key.headers)
    error(response, 400, "InvalidParameter.Body")


async def test_credential_failures(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    revoked = await world.key(tenant)
    await world.run(lambda uow: tenants.revoke_api_key(uow, revoked.id))
    expired = await world.key(tenant, expires_in=timedelta(seconds=-1))
    cases = [
        ({}, "MissingAuthorization"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "InvalidAuthorization"),
        ({"Authorization": "Bearer"}, "InvalidAuthorization"),
        ({"Authorization": "Bearer ck_unknownunknownunknown"}, "InvalidBearerToken.NotFound"),
        ({"x-acs-bearer-token": "not-a-key"}, "InvalidBearerToken.NotFound"),
        (revoked.headers, "InvalidBearerToken.Revoked"),
        ({"x-acs-bearer-token": expired.key}, "InvalidBearerToken.Expired"),
    ]
    for headers, code in cases:
        error(await client.post(SESSION_LIST, json={}, headers=headers), 401, code)


async def test_acs3_requests_go_to_the_signature_verifier(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": "ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=host,Signature=00"}
    response = await client.post(SESSION_LIST, json={}, headers=headers)
    assert response.status_code in (400, 401, 403, 404)
    body = error(response, response.status_code, response.json()["code"])
    assert body["code"] not in ("MissingAuthorization", "InvalidBearerToken.NotFound")


async def test_acting_for_another_user_needs_a_service_key_with_the_scope(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    user = await world.key(tenant, "alice")
    narrow = await world.key(tenant, "backend", service=True, scopes=("domains:read",))
    cases = [
        (user, SESSION_LIST, {"userId": "bob"}, "energy:GetChatSessionList"),
        (narrow, SESSION_LIST, {"userId": "bob"}, "energy:GetChatSessionList"),
        (user, SESSION_CREATE, {"userId": "bob"}, "energy:CreateChatSession"),
        (narrow, FOLDER_ADD, {"folderName": "x"}, "energy:AddFolder"),
    ]
    for key, path, body, action in cases:
        refused = error(
            await client.post(path, json=body, headers=key.headers), 403, "Forbidden.RAM"
        )
        assert action in refused["message"]
        detail = refused["accessDeniedDetail"]
        assert detail["AuthAction"] == action
        assert detail["NoPermissionType"] == "ImplicitDeny"
        assert detail["AuthPrincipalDisplayName"] == str(key.id)
        assert detail["AuthPrincipalOwnerId"] == tenant
    # Nothing was created by the refused calls.
    service = await world.key(tenant, "ops", service=True)
    listed = data(await client.post(SESSION_LIST, json={"userId": "bob"}, headers=service.headers))
    assert listed["total"] == 0
    assert len(data(await client.post(FOLDER_LIST, headers=service.headers))) == 1


async def test_a_user_may_name_themselves(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant(), "alice")
    body = {"userId": "alice", "name": "mine"}
    data(await client.post(SESSION_CREATE, json=body, headers=key.headers))
    listed = data(await client.post(SESSION_LIST, json={"userId": "alice"}, headers=key.headers))
    assert listed["total"] == 1


async def test_unknown_paths_wrong_methods_and_big_bodies(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    for path in ("/api/v2/aidoc/document/nope", "/api/v1/aidoc/folder/nope"):
        error(await client.post(path, headers=key.headers), 404, "InvalidAction.NotFound")
    response = await client.get(SESSION_LIST, headers=key.headers)
    assert error(response, 405, "UnsupportedHTTPMethod") and response.headers["allow"] == "POST"
    big = {"name": "x" * (70 * 1024)}
    response = await client.post(SESSION_LIST, json=big, headers=key.headers)
    error(response, 413, "RequestEntityTooLarge")


async def test_a_database_outage_is_a_503(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/missing/dir/chatkeep.db",
        secret_key="test-secret",  # type: ignore[arg-type]
        secret_key_file=tmp_path / "unused.secret",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as client:
        headers = {"Authorization": "Bearer ck_000000000000xxxxxxxxxxxxxxxx"}
        response = await client.post(SESSION_LIST, json={}, headers=headers)
    body = error(response, 503, "ServiceUnavailable")
    assert "x-acs-retry-after" not in response.headers  # the SDK would throttle on it
    assert body["message"]
    await app.state.chatkeep.engine.dispose()


async def test_a_refused_request_leaves_nothing_behind(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    service = await world.key(tenant, "backend", service=True)
    tenant_id = (await world.principal(service)).tenant_id
    # Creating for a new user makes the user first; the unknown folder then refuses it.
    body = {"userId": "newbie", "folderId": "00000000-0000-4000-8000-000000000000"}
    response = await client.post(SESSION_CREATE, json=body, headers=service.headers)
    error(response, 404, "InvalidFolderId.NotFound")
    found = await world.run(lambda uow: accounts.find_user(uow.db, tenant_id, "newbie"))
    assert found is None
