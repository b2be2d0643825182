"""Operator actions (the CLI's): tenants, users and API keys. No principal: the operator
owns the installation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import timedelta

from chatkeep.core.auth import IssuedKey, hash_key, new_api_key, parse_scopes, validate_user_id
from chatkeep.core.clock import utcnow
from chatkeep.core.errors import Conflict, InvalidArgument, NotFound
from chatkeep.core.models import ApiKey, Domain, Tenant, User
from chatkeep.core.repository import accounts, domains
from chatkeep.core.types import CredentialKind, Principal
from chatkeep.core.uow import UnitOfWork

DEFAULT_DOMAIN_NAME = "Default"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


async def create_tenant(uow: UnitOfWork, name: str) -> Tenant:
    """A tenant with its default domain (every session lives in a domain)."""
    if not _SLUG.fullmatch(name):
        raise InvalidArgument("name", "a tenant name is a slug: a-z, 0-9 and '-', 1 to 63 long")
    if await accounts.find_tenant(uow.db, name) is not None:
        raise Conflict(f"tenant {name!r} already exists")
    now = utcnow()
    tenant = await accounts.insert_tenant(uow.db, name, now)
    await domains.insert_domain(
        uow.db,
        Domain(
            tenant_id=tenant.id,
            name=DEFAULT_DOMAIN_NAME,
            is_default=True,
            created_at=now,
            updated_at=now,
        ),
    )
    return tenant


async def tenant_named(uow: UnitOfWork, name: str) -> Tenant:
    tenant = await accounts.find_tenant(uow.db, name)
    if tenant is None:
        raise NotFound(f"tenant {name!r}")
    return tenant


async def create_user(uow: UnitOfWork, tenant_name: str, user_id: str) -> User:
    tenant = await tenant_named(uow, tenant_name)
    validate_user_id(user_id)
    return await accounts.ensure_user(uow.db, tenant.id, user_id, utcnow())


async def create_api_key(
    uow: UnitOfWork,
    tenant_name: str,
    user_id: str,
    *,
    kind: CredentialKind,
    scopes: Iterable[str],
    expires_in: timedelta | None = None,
) -> IssuedKey:
    """Issue a key for a user (created if new). With no scopes given, the key gets all."""
    tenant = await tenant_named(uow, tenant_name)
    validate_user_id(user_id)
    user = await accounts.ensure_user(uow.db, tenant.id, user_id, utcnow())
    granted = parse_scopes(scopes) or ["*"]
    key, lookup = new_api_key()
    now = utcnow()
    row = await accounts.insert_api_key(
        uow.db,
        ApiKey(
            tenant_id=tenant.id,
            user_pk=user.id,
            kind=kind.value,
            lookup=lookup,
            secret_hash=hash_key(key),
            scopes=granted,
            created_at=now,
            expires_at=now + expires_in if expires_in is not None else None,
        ),
    )
    return IssuedKey(row.id, key, kind, granted, row.expires_at)


async def revoke_api_key(uow: UnitOfWork, key_id: uuid.UUID) -> None:
    """Revoke a key; revoking an already revoked key is a no-op, an unknown key NotFound."""
    if not await accounts.revoke_api_key(uow.db, key_id, utcnow()) and not (
        await accounts.api_key_exists(uow.db, key_id)
    ):
        raise NotFound(f"API key {key_id}")


def operator_principal(tenant: Tenant) -> Principal:
    """The installation's operator acting on one tenant's shared objects (domains).

    It belongs to no user (``user_pk`` 0 owns nothing), so it can never reach a user's
    sessions by default; it is only ever built by the CLI, never from a request.
    """
    return Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        user_pk=0,
        user_id="",
        kind=CredentialKind.SERVICE,
        scopes=frozenset({"*"}),
        credential_id="operator",
    )


async def operator_as_user(uow: UnitOfWork, tenant_name: str, user_id: str) -> Principal:
    """The operator acting as one user (created if new), e.g. to seed data from the CLI."""
    user = await create_user(uow, tenant_name, user_id)
    tenant = await tenant_named(uow, tenant_name)
    return Principal(
        tenant_id=tenant.id,
        tenant_name=tenant.name,
        user_pk=user.id,
        user_id=user.external_id,
        kind=CredentialKind.USER,
        scopes=frozenset({"*"}),
        credential_id="operator",
    )
