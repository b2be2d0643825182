from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status

from chatkeep.api.deps import DbUnit
from chatkeep.api.native.deps import CurrentPrincipal
from chatkeep.api.native.schemas import CursorParam, Page, SessionCreate, SessionOut, SessionUpdate
from chatkeep.core import sessions
from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.models import USER_ID_MAX
from chatkeep.core.types import (
    NewSession,
    SessionChanges,
    SessionFilter,
    SessionListQuery,
    SessionOrder,
)

router = APIRouter(prefix="/sessions", tags=["sessions"])

UserIdParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=USER_ID_MAX,
        description="Service credentials only: act for this user of the tenant.",
    ),
]


@router.get("", summary="List the user's sessions")
async def list_sessions(
    uow: DbUnit,
    principal: CurrentPrincipal,
    domain_id: uuid.UUID | None = None,
    q: Annotated[
        str | None, Query(max_length=512, description="Case-insensitive title substring.")
    ] = None,
    pinned: bool | None = None,
    archived: bool = False,
    user_id: UserIdParam = None,
    order: Literal["recent", "created", "-created", "title"] = "recent",
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 20,
    cursor: CursorParam = None,
) -> Page[SessionOut]:
    query = SessionListQuery(
        filter=SessionFilter(
            user_id=user_id, domain_id=domain_id, q=q, pinned=pinned, archived=archived
        ),
        order=SessionOrder(order),
        limit=limit,
        cursor=cursor,
    )
    page = await sessions.list_sessions(uow, principal, query)
    return Page(
        data=[SessionOut.of(s) for s in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a session")
async def create_session(
    body: SessionCreate, uow: DbUnit, principal: CurrentPrincipal, response: Response
) -> SessionOut:
    new = NewSession(
        title=body.title,
        domain_id=body.domain_id,
        system_context=body.system_context,
        metadata=body.metadata,
        user_id=body.user_id,
    )
    session = await sessions.create_session(uow, principal, new)
    response.headers["Location"] = f"/v1/sessions/{session.uuid}"
    return SessionOut.of(session)


@router.get("/{session_id}", summary="Read a session")
async def read_session(
    session_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal, user_id: UserIdParam = None
) -> SessionOut:
    return SessionOut.of(await sessions.get_session(uow, principal, session_id, user_id=user_id))


@router.patch("/{session_id}", summary="Rename, pin, archive, move or edit a session")
async def update_session(
    session_id: uuid.UUID,
    body: SessionUpdate,
    uow: DbUnit,
    principal: CurrentPrincipal,
    user_id: UserIdParam = None,
) -> SessionOut:
    changes = SessionChanges(**body.model_dump(exclude_unset=True))
    session = await sessions.update_session(uow, principal, session_id, changes, user_id=user_id)
    return SessionOut.of(session)


@router.delete(
    "/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a session and its messages",
)
async def delete_session(
    session_id: uuid.UUID, uow: DbUnit, principal: CurrentPrincipal, user_id: UserIdParam = None
) -> None:
    await sessions.delete_session(uow, principal, session_id, user_id=user_id)
