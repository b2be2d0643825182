from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from chatkeep.api.deps import DbUnit
from chatkeep.api.native.deps import CurrentPrincipal
from chatkeep.api.native.schemas import CursorParam, DomainCreate, DomainOut, DomainUpdate, Page
from chatkeep.core import domains
from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.types import UNSET, DomainChanges, DomainListQuery

router = APIRouter(prefix="/domains", tags=["domains"])


@router.get("", summary="List the tenant's domains, by name")
async def list_domains(
    uow: DbUnit,
    principal: CurrentPrincipal,
    parent_id: uuid.UUID | None = None,
    roots_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 100,
    cursor: CursorParam = None,
) -> Page[DomainOut]:
    query = DomainListQuery(parent_id=parent_id, roots_only=roots_only, limit=limit, cursor=cursor)
    page = await domains.list_domains(uow, principal, query)
    return Page(
        data=[DomainOut.of(d) for d in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a domain")
async def create_domain(
    body: DomainCreate, uow: DbUnit, principal: CurrentPrincipal, response: Response
) -> DomainOut:
    domain = await domains.create_domain(uow, principal, body.name, body.parent_id)
    response.headers["Location"] = f"/v1/domains/{domain.id}"
    return DomainOut.of(domain)


@router.get("/{domain_id}", summary="Read a domain")
async def read_domain(domain_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal) -> DomainOut:
    return DomainOut.of(await domains.get_domain(uow, principal, domain_id))


@router.patch("/{domain_id}", summary="Rename or move a domain")
async def update_domain(
    domain_id: uuid.UUID, body: DomainUpdate, uow: DbUnit, principal: CurrentPrincipal
) -> DomainOut:
    parent = body.parent_id if "parent_id" in body.model_fields_set else UNSET
    changes = DomainChanges(name=body.name, parent_id=parent)
    return DomainOut.of(await domains.update_domain(uow, principal, domain_id, changes))


@router.delete(
    "/{domain_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a domain and its sub-domains",
    description="409 while any of them holds sessions, unless `cascade=true`, which "
    "deletes those sessions and their messages too.",
)
async def delete_domain(
    domain_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal, cascade: bool = False
) -> None:
    await domains.delete_domain(uow, principal, domain_id, cascade=cascade)
