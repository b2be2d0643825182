"""Domain use cases: a tenant's tree of knowledge scopes, shared by all its users."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from chatkeep.core import limits
from chatkeep.core.auth import require
from chatkeep.core.clock import utcnow
from chatkeep.core.cursor import fingerprint
from chatkeep.core.errors import Conflict, InvalidArgument, NotFound
from chatkeep.core.models import Domain
from chatkeep.core.repository import domains as rows
from chatkeep.core.types import (
    UNSET,
    DomainChanges,
    DomainListQuery,
    DomainRecord,
    Page,
    Principal,
    Scope,
)
from chatkeep.core.uow import UnitOfWork

MAX_DEPTH = 32


async def list_domains(
    uow: UnitOfWork, principal: Principal, query: DomainListQuery
) -> Page[DomainRecord]:
    require(principal, Scope.DOMAINS_READ, "list domains")
    limits.check_limit(query.limit)
    fp = fingerprint("domains", principal.tenant_id, query.parent_id, query.roots_only)
    after = uow.config.cursors.decode(query.cursor, fp) if query.cursor else None
    found = await rows.list_domains(
        uow.db, principal.tenant_id,
        parent_id=query.parent_id, roots_only=query.roots_only,
        after=(str(after[0]), uuid.UUID(str(after[1]))) if after else None,
        limit=query.limit + 1,
    )  # fmt: skip
    page = found[: query.limit]
    next_cursor = None
    if len(found) > query.limit:
        next_cursor = uow.config.cursors.encode(fp, [page[-1].name, page[-1].id])
    return Page([to_record(d) for d in page], next_cursor)


async def domain_tree(uow: UnitOfWork, principal: Principal) -> list[DomainRecord]:
    """Every domain of the tenant, ordered by name: dialects build their trees from it."""
    require(principal, Scope.DOMAINS_READ, "list domains")
    found = await rows.all_domains(uow.db, principal.tenant_id)
    return sorted((to_record(d) for d in found), key=lambda d: (d.name, d.id))


async def get_domain(uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID) -> DomainRecord:
    require(principal, Scope.DOMAINS_READ, "read domains")
    return to_record(await _load(uow, principal, domain_id))


async def create_domain(
    uow: UnitOfWork, principal: Principal, name: str, parent_id: uuid.UUID | None = None
) -> DomainRecord:
    """A new domain; names are unique among siblings."""
    require(principal, Scope.DOMAINS_WRITE, "create domains")
    limits.check_name(name)
    if parent_id is not None:
        await _load(uow, principal, parent_id, what="parent domain")
        _check_room_below(_ancestry(await _parents(uow, principal), parent_id))
    await _check_name_free(uow, principal, parent_id, name)
    now = utcnow()
    domain = Domain(
        tenant_id=principal.tenant_id, parent_id=parent_id, name=name,
        is_default=False, created_at=now, updated_at=now,
    )  # fmt: skip
    return to_record(await rows.insert_domain(uow.db, domain))


async def update_domain(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID, changes: DomainChanges
) -> DomainRecord:
    """Rename or move a domain; a move that would make a cycle is refused."""
    require(principal, Scope.DOMAINS_WRITE, "update domains")
    domain = await _load(uow, principal, domain_id)
    name = domain.name if changes.name is None else changes.name
    parent_id = domain.parent_id if changes.parent_id is UNSET else changes.parent_id
    limits.check_name(name)
    if parent_id is not None and parent_id != domain.parent_id:
        await _check_not_descendant(uow, principal, domain_id, parent_id)
    if (name, parent_id) != (domain.name, domain.parent_id):
        await _check_name_free(uow, principal, parent_id, name)
        await rows.update_domain(
            uow.db, domain_id, {"name": name, "parent_id": parent_id, "updated_at": utcnow()}
        )
    return to_record(await _load(uow, principal, domain_id))


async def delete_domain(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID, *, cascade: bool = False
) -> None:
    """Delete a domain and its sub-domains. If any of them holds sessions this is a
    Conflict unless ``cascade``, which deletes those sessions (every user's) too."""
    require(principal, Scope.DOMAINS_WRITE, "delete domains")
    domain = await _load(uow, principal, domain_id)
    if domain.is_default:
        raise Conflict("The tenant's default domain cannot be deleted.")
    below = subtree(await rows.all_domains(uow.db, principal.tenant_id), domain_id)
    if not cascade and await rows.has_sessions(uow.db, below):
        raise Conflict(
            "The domain (or a sub-domain) still has sessions; delete with cascade=true "
            "to delete them as well."
        )
    await rows.delete_domains(uow.db, below)


def to_record(domain: Domain) -> DomainRecord:
    return DomainRecord(
        id=domain.id, name=domain.name, parent_id=domain.parent_id,
        is_default=domain.is_default, created_at=domain.created_at,
        updated_at=domain.updated_at,
    )  # fmt: skip


async def _load(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID, what: str = "domain"
) -> Domain:
    domain = await rows.get_domain(uow.db, principal.tenant_id, domain_id)
    if domain is None:
        raise NotFound(what)
    return domain


async def _check_name_free(
    uow: UnitOfWork, principal: Principal, parent_id: uuid.UUID | None, name: str
) -> None:
    if await rows.sibling_named(uow.db, principal.tenant_id, parent_id, name) is not None:
        raise Conflict(f"A domain named {name!r} already exists under that parent.")


async def _check_not_descendant(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID, new_parent: uuid.UUID
) -> None:
    parents = await _parents(uow, principal)
    if new_parent not in parents:
        raise NotFound("parent domain")
    ancestry = _ancestry(parents, new_parent)
    if domain_id in ancestry:
        raise InvalidArgument(
            "parent_id", "a domain cannot move under itself or its own sub-domain"
        )
    _check_room_below(ancestry)


async def _parents(uow: UnitOfWork, principal: Principal) -> dict[uuid.UUID, uuid.UUID | None]:
    return {d.id: d.parent_id for d in await rows.all_domains(uow.db, principal.tenant_id)}


def _ancestry(
    parents: dict[uuid.UUID, uuid.UUID | None], node: uuid.UUID | None
) -> list[uuid.UUID]:
    """``node`` and its ancestors up to the root (at most MAX_DEPTH + 1 of them)."""
    chain: list[uuid.UUID] = []
    while node is not None and len(chain) <= MAX_DEPTH:
        chain.append(node)
        node = parents.get(node)
    return chain


def _check_room_below(ancestry: list[uuid.UUID]) -> None:
    """A child under the first domain of ``ancestry`` must stay within MAX_DEPTH levels."""
    if len(ancestry) >= MAX_DEPTH:
        raise InvalidArgument("parent_id", f"domains nest at most {MAX_DEPTH} deep")


def subtree(all_domains: Sequence[Domain], root: uuid.UUID) -> list[uuid.UUID]:
    """``root`` and every domain below it, of the tenant's ``all_domains``."""
    children: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for d in all_domains:
        children.setdefault(d.parent_id, []).append(d.id)
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, []))
    return found
