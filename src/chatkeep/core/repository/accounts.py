"""Tenants, their users, and API keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import ApiKey, Tenant, User
from chatkeep.core.repository.dialect import upsert_insert


async def find_tenant(db: AsyncSession, name: str) -> Tenant | None:
    return await db.scalar(select(Tenant).where(Tenant.name == name))


async def owner_names(db: AsyncSession, tenant_id: int, user_pk: int) -> tuple[str, str] | None:
    """A credential owner's tenant name and user external id, in one query."""
    row = (
        await db.execute(
            select(Tenant.name, User.external_id)
            .join(User, User.tenant_id == Tenant.id)
            .where(Tenant.id == tenant_id, User.id == user_pk)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def insert_tenant(db: AsyncSession, name: str, now: datetime) -> Tenant:
    tenant = Tenant(name=name, created_at=now)
    db.add(tenant)
    await db.flush()
    return tenant


async def find_user(db: AsyncSession, tenant_id: int, external_id: str) -> User | None:
    return await db.scalar(
        select(User).where(User.tenant_id == tenant_id, User.external_id == external_id)
    )


async def ensure_user(db: AsyncSession, tenant_id: int, external_id: str, now: datetime) -> User:
    """The user, created if new; safe when two requests name a new user at once."""
    await db.execute(
        upsert_insert(db, User)
        .values(tenant_id=tenant_id, external_id=external_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["tenant_id", "external_id"])
    )
    user = await find_user(db, tenant_id, external_id)
    assert user is not None
    return user


# Built once: constructing a statement (and its cache key) costs more than the indexed
# lookup itself, and every request runs this one. Measured in one process, interleaved:
# ~0.97-1.12 ms built per call vs ~0.44-0.53 ms prebuilt (docs/decisions.md, issue 10).
KEY_CHECK = (
    select(
        ApiKey.id,
        ApiKey.tenant_id,
        ApiKey.user_pk,
        ApiKey.kind,
        ApiKey.scopes,
        ApiKey.secret_hash,
        ApiKey.revoked_at,
        ApiKey.expires_at,
        Tenant.name.label("tenant_name"),
        User.external_id.label("user_id"),
    )
    .join(Tenant, Tenant.id == ApiKey.tenant_id)
    .join(User, User.id == ApiKey.user_pk)
    .where(ApiKey.lookup == bindparam("lookup"))
)


async def find_api_key(db: AsyncSession, lookup: str) -> Row[Any] | None:
    """What checking a presented key needs, with its tenant's name and its user's external
    id: every request authenticates, so this is one indexed query, prebuilt, run as Core
    on the session's connection (no ORM entity to build)."""
    conn = await db.connection()
    row = (await conn.execute(KEY_CHECK, {"lookup": lookup})).first()
    return cast("Row[Any] | None", row)


async def insert_api_key(db: AsyncSession, key: ApiKey) -> ApiKey:
    db.add(key)
    await db.flush()
    return key


async def revoke_api_key(db: AsyncSession, key_id: uuid.UUID, now: datetime) -> bool:
    result = await db.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def api_key_exists(db: AsyncSession, key_id: uuid.UUID) -> bool:
    return await db.scalar(select(ApiKey.id).where(ApiKey.id == key_id)) is not None
