"""Domain rows: a per-tenant tree."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import ChatSession, Domain
from chatkeep.core.repository.counters import forget_domains


async def get_domain(db: AsyncSession, tenant_id: int, domain_id: uuid.UUID) -> Domain | None:
    return await db.scalar(
        select(Domain).where(Domain.tenant_id == tenant_id, Domain.id == domain_id)
    )


async def default_domain(db: AsyncSession, tenant_id: int) -> Domain | None:
    return await db.scalar(
        select(Domain).where(Domain.tenant_id == tenant_id, Domain.is_default.is_(True))
    )


async def list_domains(
    db: AsyncSession,
    tenant_id: int,
    *,
    parent_id: uuid.UUID | None,
    roots_only: bool,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> list[Domain]:
    stmt = select(Domain).where(Domain.tenant_id == tenant_id)
    if parent_id is not None:
        stmt = stmt.where(Domain.parent_id == parent_id)
    elif roots_only:
        stmt = stmt.where(Domain.parent_id.is_(None))
    if after is not None:
        stmt = stmt.where(tuple_(Domain.name, Domain.id) > tuple_(*after))
    stmt = stmt.order_by(Domain.name, Domain.id).limit(limit)
    return list((await db.scalars(stmt)).all())


async def all_domains(db: AsyncSession, tenant_id: int) -> Sequence[Domain]:
    """The whole tree of one tenant; domains are few per tenant (configuration, not data)."""
    return (await db.scalars(select(Domain).where(Domain.tenant_id == tenant_id))).all()


async def sibling_named(
    db: AsyncSession, tenant_id: int, parent_id: uuid.UUID | None, name: str
) -> Domain | None:
    parent = Domain.parent_id.is_(None) if parent_id is None else Domain.parent_id == parent_id
    return await db.scalar(
        select(Domain).where(Domain.tenant_id == tenant_id, parent, Domain.name == name)
    )


async def insert_domain(db: AsyncSession, domain: Domain) -> Domain:
    db.add(domain)
    await db.flush()
    return domain


async def update_domain(db: AsyncSession, domain_id: uuid.UUID, values: dict[str, Any]) -> None:
    await db.execute(update(Domain).where(Domain.id == domain_id).values(**values))


async def has_sessions(db: AsyncSession, domain_ids: Sequence[uuid.UUID]) -> bool:
    return bool(await db.scalar(select(exists().where(ChatSession.domain_id.in_(domain_ids)))))


async def delete_domains(db: AsyncSession, domain_ids: Sequence[uuid.UUID]) -> None:
    """Delete domains with their sessions (and, by cascade, the sessions' messages)."""
    await db.execute(delete(ChatSession).where(ChatSession.domain_id.in_(domain_ids)))
    await forget_domains(db, domain_ids)
    await db.execute(delete(Domain).where(Domain.id.in_(domain_ids)))
