"""ACS3 signatures through the app: SDK-signed requests to the real AI-doc endpoints."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from chatkeep.api.aidoc.signature import DATE_FORMAT
from chatkeep.core import access_keys
from chatkeep.core.types import CredentialKind
from tests.api.aidoc.sdk_signing import SdkSigner, SignedRequest
from tests.factories import World

pytestmark = pytest.mark.anyio

SESSION_LIST = "/api/v2/aidoc/document/chat/session/list"
SESSION_CREATE = "/api/v2/aidoc/document/chat/session/create"
FOLDER_DELETE = "/api/v1/aidoc/folder/delete"


async def signer_for(world: World, tenant: str, user_id: str = "alice") -> SdkSigner:
    async with world.uow() as uow:
        issued = await access_keys.create_access_key(uow, tenant, user_id, kind=CredentialKind.USER)
    return SdkSigner(issued.access_key_id, issued.access_key_secret)


async def send(client: httpx.AsyncClient, signed: SignedRequest) -> httpx.Response:
    return await client.request(**signed.send_args())


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"requestId", "code", "message"}, body
    assert body["code"] == code, body
    assert response.headers["x-acs-request-id"] == body["requestId"]
    return body


def sessions_listed(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["name"] for s in response.json()["data"]["sessionList"]]


def signed_date(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime(DATE_FORMAT)


async def test_a_valid_signature_acts_as_the_keys_user(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    await world.session(await world.key(tenant, "alice"), title="alice's")
    await world.session(await world.key(tenant, "bob"), title="bob's")
    signer = await signer_for(world, tenant, "alice")
    response = await send(client, signer.sign("POST", SESSION_LIST, body={"pageSize": 10}))
    assert sessions_listed(response) == ["alice's"]


async def test_a_signed_delete_with_a_query_passes(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    folder = await world.domain(tenant, "to delete")
    signer = await signer_for(world, tenant)
    signed = signer.sign("DELETE", FOLDER_DELETE, query={"folderId": str(folder.id)})
    response = await send(client, signed)
    assert response.status_code == 200, response.text
    assert response.json()["data"] is True


async def test_a_tampered_body_is_refused(client: httpx.AsyncClient, world: World) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_LIST, body={"userId": "alice"})
    signed.body = b'{"userId":"bob"}'
    refused(await send(client, signed), 400, "ContentSha256Mismatch")


async def test_a_tampered_body_with_its_hash_updated_does_not_match(
    client: httpx.AsyncClient, world: World
) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_LIST, body={"userId": "alice"})
    signed.body = b'{"userId":"bob"}'
    signed.headers["x-acs-content-sha256"] = hashlib.sha256(signed.body).hexdigest()
    refused(await send(client, signed), 400, "SignatureDoesNotMatch")


@pytest.mark.parametrize(
    ("header", "value"),
    [("x-acs-action", "DeleteFolder"), ("host", "elsewhere.example"), ("accept", "text/xml")],
)
async def test_a_tampered_signed_header_does_not_match(
    client: httpx.AsyncClient, world: World, header: str, value: str
) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_LIST, body={})
    signed.headers[header] = value
    refused(await send(client, signed), 400, "SignatureDoesNotMatch")


async def test_a_tampered_query_does_not_match(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    signer = await signer_for(world, tenant)
    folder = await world.domain(tenant, "kept")
    signed = signer.sign("DELETE", FOLDER_DELETE, query={"folderId": "0"})
    signed.url = f"{FOLDER_DELETE}?folderId={folder.id}"
    refused(await send(client, signed), 400, "SignatureDoesNotMatch")


async def test_a_wrong_secret_does_not_match(client: httpx.AsyncClient, world: World) -> None:
    signer = await signer_for(world, await world.tenant())
    signer.access_key_secret = "not-the-secret"
    refused(await send(client, signer.sign("POST", SESSION_LIST, body={})), 400,
            "SignatureDoesNotMatch")  # fmt: skip


async def test_an_unknown_access_key_is_not_found(client: httpx.AsyncClient) -> None:
    signer = SdkSigner("CKAKdoesnotexist0000000", "secret")
    signed = signer.sign("POST", SESSION_LIST, body={})
    refused(await send(client, signed), 404, "InvalidAccessKeyId.NotFound")


async def test_a_reused_nonce_is_refused(client: httpx.AsyncClient, world: World) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_CREATE, body={"name": "once"})
    assert (await send(client, signed)).status_code == 200
    refused(await send(client, signed), 400, "SignatureNonceUsed")
    response = await send(client, signer.sign("POST", SESSION_LIST, body={}))
    assert sessions_listed(response) == ["once"]


async def test_a_request_refused_after_authenticating_does_not_burn_its_nonce(
    client: httpx.AsyncClient, world: World
) -> None:
    # The nonce is recorded in the request's transaction, which a refusal rolls back.
    signer = await signer_for(world, await world.tenant())
    body = {"name": "x", "folderId": "00000000-0000-4000-8000-000000000000"}
    signed = signer.sign("POST", SESSION_CREATE, body=body)
    first, replay = await send(client, signed), await send(client, signed)
    refused(first, 404, "InvalidFolderId.NotFound")
    refused(replay, 404, "InvalidFolderId.NotFound")


async def test_an_old_or_future_date_is_expired(client: httpx.AsyncClient, world: World) -> None:
    signer = await signer_for(world, await world.tenant())
    for delta in (timedelta(minutes=-16), timedelta(minutes=16)):
        signed = signer.sign("POST", SESSION_LIST, body={}, x_acs_date=signed_date(delta))
        refused(await send(client, signed), 400, "InvalidTimeStamp.Expired")
    signed = signer.sign(
        "POST", SESSION_LIST, body={}, x_acs_date=signed_date(-timedelta(minutes=14))
    )
    assert (await send(client, signed)).status_code == 200


async def test_a_revoked_key_is_inactive(client: httpx.AsyncClient, world: World) -> None:
    signer = await signer_for(world, await world.tenant())
    async with world.uow() as uow:
        await access_keys.revoke_access_key(uow, signer.access_key_id)
    refused(await send(client, signer.sign("POST", SESSION_LIST, body={})), 400,
            "InvalidAccessKeyId.Inactive")  # fmt: skip


async def test_a_missing_date_header_is_a_missing_parameter(
    client: httpx.AsyncClient, world: World
) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_LIST, body={})
    del signed.headers["x-acs-date"]
    refused(await send(client, signed), 400, "MissingParameter")


async def test_a_malformed_authorization_is_an_incomplete_signature(
    client: httpx.AsyncClient, world: World
) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_LIST, body={})
    signed.headers["Authorization"] = f"ACS3-HMAC-SHA256 Credential={signer.access_key_id}"
    refused(await send(client, signed), 400, "IncompleteSignature")


async def test_a_rejected_signature_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    signer = await signer_for(world, await world.tenant())
    signed = signer.sign("POST", SESSION_CREATE, body={"name": "never"})
    signed.body = b'{"name":"tampered"}'
    refused(await send(client, signed), 400, "ContentSha256Mismatch")
    assert sessions_listed(await send(client, signer.sign("POST", SESSION_LIST, body={}))) == []
