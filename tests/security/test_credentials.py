"""Revoked and expired credentials fail on every route of every dialect, in that dialect's
format, and change nothing. The routes come from the app's own OpenAPI document (plus
AISquare's unslashed twins), so a new route cannot be missed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import update

from chatkeep.core import access_keys, tenants
from chatkeep.core.clock import utcnow
from chatkeep.core.models import ApiKey
from tests.api.aidoc.sdk_signing import SdkSigner
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

# Answer without credentials, by design (a document link's signature is its authority).
PUBLIC = {"/healthz", "/readyz", "/metrics", "/v1/document-links/{document_id}"}
BODY = {"title": "x", "role": "user", "content": "x", "name": "x", "folderName": "x"}


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str]]:
    paths = (await client.get("/openapi.json")).json()["paths"]
    found = [(m.upper(), p) for p, ops in paths.items() for m in ops if p not in PUBLIC]
    twins = [(m, p.rstrip("/")) for m, p in found if p.startswith("/api/v1/qllm/")]
    return found + twins


def concrete(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"no test value for a parameter of {path}: add one"
    return path


async def expire(world: World, key: Key) -> None:
    async def past(uow: Any) -> None:
        await uow.db.execute(
            update(ApiKey).where(ApiKey.id == key.id).values(expires_at=utcnow() - timedelta(1))
        )

    await world.run(past)


async def test_revoked_and_expired_credentials_fail_everywhere_and_change_nothing(
    world: World, client: httpx.AsyncClient
) -> None:
    tenant = await world.tenant()
    good = await world.key(tenant, "alice")
    session = await world.session(good, title="before")
    domain = await world.domain(tenant, "kept")
    document = (await world.document(good, domain.id, "kept.txt", b"kept words")).document
    revoked, expired = await world.key(tenant, "alice"), await world.key(tenant, "alice")
    pair = await world.access_key(tenant, "alice")
    await world.run(lambda uow: tenants.revoke_api_key(uow, revoked.id))
    await world.run(lambda uow: access_keys.revoke_access_key(uow, pair.access_key_id))
    await expire(world, expired)
    signer = SdkSigner(pair.access_key_id, pair.access_key_secret)

    walked = 0
    for method, template in await operations(client):
        native_ids = {
            "session_id": str(session.uuid),
            "domain_id": str(domain.id),
            "document_id": str(document.id),
            "answer_id": "00000000-0000-4000-8000-000000000000",  # refused first
        }
        if template.startswith("/api/v1/qllm/"):
            native_ids["session_id"] = str(session.id)
        path = concrete(template, native_ids)
        body = orjson.dumps(BODY | {"sessionId": str(session.uuid)})
        query = {"folderId": str(domain.id)} if "folder/delete" in path else {}
        for key, why in ((revoked, "Revoked"), (expired, "Expired")):
            for headers in _presentations(template, key.key):
                response = await client.request(
                    method, path, params=query, content=body,
                    headers=headers | {"content-type": "application/json"},
                )  # fmt: skip
                _assert_refused(template, response, why, f"{method} {path} {headers.keys()}")
                walked += 1
        if "/aidoc/" in template:
            signed = signer.sign(method, path, body=BODY, query=query or None)
            response = await client.request(**signed.send_args())
            assert response.status_code == 400, (path, response.text)
            assert response.json()["code"] == "InvalidAccessKeyId.Inactive", path
            walked += 1
    assert walked > 60

    listed = (await client.get("/v1/sessions", headers=good.headers)).json()["data"]
    assert [(s["id"], s["title"], s["message_count"]) for s in listed] == [
        (str(session.uuid), "before", 0)
    ]
    names = [
        d["name"] for d in (await client.get("/v1/domains", headers=good.headers)).json()["data"]
    ]
    assert "kept" in names and "x" not in names


def _presentations(path: str, key: str) -> list[dict[str, str]]:
    if path.startswith("/api/v1/qllm/"):
        return [{"Authorization": f"Bearer {key}"}, {"Authorization": f"Token {key}"}]
    if "/aidoc/" in path:
        return [{"Authorization": f"Bearer {key}"}, {"x-acs-bearer-token": key}]
    return [{"Authorization": f"Bearer {key}"}]


def _assert_refused(path: str, response: httpx.Response, why: str, where: str) -> None:
    assert response.status_code == 401, (where, response.status_code, response.text)
    body = response.json()
    if path.startswith("/api/v1/qllm/"):
        assert list(body) == ["detail"] and why.lower() in body["detail"], where
    elif "/aidoc/" in path:
        assert body["code"] == f"InvalidBearerToken.{why}", where
    else:
        assert response.headers["content-type"] == "application/problem+json", where
        assert why.lower() in body["detail"], where
