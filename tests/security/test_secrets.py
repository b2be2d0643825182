"""Secrets at rest and in the open: hashed keys, encrypted access-key secrets, nothing
issued ever in a log line, an error body or the OpenAPI document."""

from __future__ import annotations

import hashlib
import hmac
import logging

import httpx
import orjson
import pytest
from sqlalchemy import select

from chatkeep.core import access_keys, auth, tenants
from chatkeep.core.models import AccessKey, ApiKey
from chatkeep.core.types import CredentialKind
from tests.factories import ISSUED_SECRETS, World
from tests.security.leaks import CapturingHandler, find_leaks

pytestmark = pytest.mark.anyio


async def test_api_key_row_holds_only_a_hash_and_the_visible_lookup_prefix(world: World) -> None:
    key = await world.key(await world.tenant())
    async with world.uow(write=False) as uow:
        row = await uow.db.scalar(select(ApiKey).where(ApiKey.id == key.id))
    assert row is not None
    assert row.secret_hash == hashlib.sha256(key.key.encode()).hexdigest()
    assert key.key.startswith("ck_") and key.key[3:15] == row.lookup
    stored = " ".join(str(getattr(row, c.key)) for c in ApiKey.__table__.columns)
    assert key.key not in stored and key.key[15:] not in stored  # the secret part nowhere


async def test_api_key_is_compared_in_constant_time(
    world: World, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = await world.key(await world.tenant())
    compared: list[tuple[str, str]] = []
    constant_time = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return constant_time(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    forged = key.key[:15] + "x" * (len(key.key) - 15)  # right lookup, wrong secret
    response = await client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert compared == [(hashlib.sha256(key.key.encode()).hexdigest(), auth.hash_key(forged))]


async def test_access_key_secret_is_encrypted_at_rest(world: World) -> None:
    issued = await world.access_key(await world.tenant())
    async with world.uow(write=False) as uow:
        row = await uow.db.scalar(select(AccessKey).where(AccessKey.id == issued.access_key_id))
    assert row is not None
    blob = bytes(row.secret_ciphertext)
    secret = issued.access_key_secret.encode()
    assert secret not in blob and secret.hex().encode() not in blob
    assert len(blob) >= len(secret) + 12 + 16  # nonce and tag: sealed, not encoded


async def test_refusals_never_echo_the_presented_key(
    world: World, client: httpx.AsyncClient
) -> None:
    key = await world.key(await world.tenant())
    forged = key.key[:-4] + "AAAA"
    for path, headers in [
        ("/v1/me", {"Authorization": f"Bearer {forged}"}),
        ("/api/v1/qllm/chat-sessions/", {"Authorization": f"Token {forged}"}),
        ("/api/v2/aidoc/document/chat/session/list", {"x-acs-bearer-token": forged}),
    ]:
        method = "POST" if "aidoc" in path else "GET"
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401, path
        assert forged not in response.text and forged[15:] not in response.text, path


async def test_openapi_document_holds_no_issued_key_or_secret(
    world: World, client: httpx.AsyncClient
) -> None:
    tenant = await world.tenant()
    await world.key(tenant)
    await world.access_key(tenant)
    text = (await client.get("/openapi.json")).text
    assert ISSUED_SECRETS and not [s for s in ISSUED_SECRETS if s in text]
    # No example in the document may look like a real key either.
    assert "ck_" not in "".join(str(v) for v in _examples(orjson.loads(text)))


def _examples(node: object) -> list[object]:
    found: list[object] = []
    if isinstance(node, dict):
        for name, value in node.items():
            if name in ("example", "examples", "default"):
                found.append(value)
            found.extend(_examples(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_examples(value))
    return found


def test_the_suite_wide_log_capture_is_installed_and_catches_a_planted_secret() -> None:
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, CapturingHandler)]
    assert len(handlers) == 1, "tests/conftest.py must install the leak watch at session start"
    logging.getLogger("chatkeep.security-selftest").debug("token=%s", "ck_planted-not-issued")
    assert any("ck_planted-not-issued" in line for line in handlers[0].lines)
    leaks = find_leaks(handlers[0].lines, {"ck_planted-not-issued"})
    assert leaks and "ck_planted-not-issued" not in leaks[0]  # reported masked


async def test_every_key_the_core_issues_is_registered_for_the_leak_check(world: World) -> None:
    """Issued through the core directly, not the factories: the watch still knows them."""
    tenant = await world.tenant()
    async with world.uow() as uow:
        key = await tenants.create_api_key(
            uow, tenant, "bob", kind=CredentialKind.USER, scopes=["*"]
        )
        pair = await access_keys.create_access_key(uow, tenant, "bob", kind=CredentialKind.USER)
    assert key.key in ISSUED_SECRETS and pair.access_key_secret in ISSUED_SECRETS
