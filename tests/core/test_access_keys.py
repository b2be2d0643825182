"""Access-key pairs and signature nonces, on the real databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from chatkeep.core import access_keys
from chatkeep.core.access_key_cipher import AccessKeyCipher
from chatkeep.core.clock import utcnow
from chatkeep.core.errors import InvalidArgument, NotFound, Unauthenticated
from chatkeep.core.models import AccessKey, AccessKeyNonce
from chatkeep.core.types import CredentialKind
from tests.factories import World

pytestmark = pytest.mark.anyio


async def issue(world: World, tenant: str, **kwargs: object) -> access_keys.IssuedAccessKey:
    async with world.uow() as uow:
        return await access_keys.create_access_key(
            uow,
            tenant,
            "alice",
            kind=CredentialKind.USER,
            **kwargs,  # type: ignore[arg-type]
        )


async def test_secret_is_stored_only_encrypted(world: World) -> None:
    issued = await issue(world, await world.tenant())
    async with world.uow(write=False) as uow:
        row = await uow.db.scalar(select(AccessKey).where(AccessKey.id == issued.access_key_id))
    assert row is not None
    assert issued.access_key_secret.encode() not in row.secret_ciphertext
    assert issued.access_key_id.startswith("CKAK") and len(issued.access_key_secret) == 30


async def test_signing_key_decrypts_the_issued_secret(world: World) -> None:
    issued = await issue(world, await world.tenant())
    async with world.uow(write=False) as uow:
        key = await access_keys.load_signing_key(uow, issued.access_key_id)
    assert key is not None and key.secret == issued.access_key_secret and not key.revoked


async def test_default_scopes_are_all_and_unknown_scopes_are_refused(world: World) -> None:
    tenant = await world.tenant()
    assert (await issue(world, tenant)).scopes == ["*"]
    assert (await issue(world, tenant, scopes=["sessions:read"])).scopes == ["sessions:read"]
    with pytest.raises(InvalidArgument):
        await issue(world, tenant, scopes=["bogus"])


async def test_principal_is_the_keys_tenant_user_kind_and_scopes(world: World) -> None:
    tenant = await world.tenant()
    async with world.uow() as uow:
        issued = await access_keys.create_access_key(
            uow, tenant, "svc", kind=CredentialKind.SERVICE, scopes=["sessions:read"]
        )
        key = await access_keys.load_signing_key(uow, issued.access_key_id)
        assert key is not None
        principal = await access_keys.principal_for_access_key(uow, key.row)
    assert (principal.tenant_name, principal.user_id) == (tenant, "svc")
    assert principal.kind is CredentialKind.SERVICE
    assert principal.scopes == frozenset({"sessions:read"})
    assert principal.credential_id == issued.access_key_id


async def test_unknown_key_is_none(world: World) -> None:
    async with world.uow(write=False) as uow:
        assert await access_keys.load_signing_key(uow, "CKAKnope") is None


async def test_another_server_key_cannot_read_the_secret(world: World) -> None:
    issued = await issue(world, await world.tenant())
    other = replace(world.state.config, access_key_cipher=AccessKeyCipher(b"another key"))
    async with world.uow(write=False) as uow:
        with pytest.raises(Unauthenticated):
            await access_keys.load_signing_key(replace(uow, config=other), issued.access_key_id)


async def test_ciphertext_is_bound_to_its_key_id() -> None:
    cipher = AccessKeyCipher(b"server key")
    sealed = cipher.encrypt("CKAKone", "secret")
    assert cipher.decrypt("CKAKone", sealed) == "secret"
    with pytest.raises(Unauthenticated):
        cipher.decrypt("CKAKtwo", sealed)


async def test_revoke_is_idempotent_and_unknown_keys_are_not_found(world: World) -> None:
    issued = await issue(world, await world.tenant())
    for _ in range(2):
        async with world.uow() as uow:
            await access_keys.revoke_access_key(uow, issued.access_key_id)
    async with world.uow(write=False) as uow:
        key = await access_keys.load_signing_key(uow, issued.access_key_id)
    assert key is not None and key.revoked
    with pytest.raises(NotFound):
        async with world.uow() as uow:
            await access_keys.revoke_access_key(uow, "CKAKnope")


async def test_a_nonce_is_accepted_once_per_key(world: World) -> None:
    tenant = await world.tenant()
    first, second = await issue(world, tenant), await issue(world, tenant)
    expires = utcnow() + timedelta(minutes=15)
    outcomes = []
    for key_id in (first.access_key_id, first.access_key_id, second.access_key_id):
        async with world.uow() as uow:
            outcomes.append(
                await access_keys.record_signature_nonce(uow, key_id, "n1", expires, purge=False)
            )
    assert outcomes == [True, False, True]


async def test_a_rolled_back_nonce_is_not_burned(world: World) -> None:
    issued = await issue(world, await world.tenant())
    expires = utcnow() + timedelta(minutes=15)
    with pytest.raises(RuntimeError):
        async with world.uow() as uow:
            await access_keys.record_signature_nonce(
                uow, issued.access_key_id, "n1", expires, purge=False
            )
            raise RuntimeError("the request failed after authenticating")
    async with world.uow() as uow:
        assert await access_keys.record_signature_nonce(
            uow, issued.access_key_id, "n1", expires, purge=False
        )


async def test_purge_drops_only_nonces_past_their_window(world: World) -> None:
    issued = await issue(world, await world.tenant())
    now = utcnow()
    async with world.uow() as uow:
        for nonce, expires in (("old", now - timedelta(hours=1)), ("live", now)):
            await access_keys.record_signature_nonce(
                uow, issued.access_key_id, nonce, expires, purge=False
            )
    async with world.uow() as uow:
        await access_keys.record_signature_nonce(uow, issued.access_key_id, "new", now, purge=True)
        kept = await uow.db.scalars(select(AccessKeyNonce.nonce).order_by(AccessKeyNonce.nonce))
        assert list(kept) == ["live", "new"]
