from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from chatkeep.api.deps import DbUnit
from chatkeep.api.native.deps import CurrentPrincipal
from chatkeep.api.native.schemas import CursorParam, MessageCreate, MessageOut, Page
from chatkeep.api.native.sessions import UserIdParam
from chatkeep.core import messages
from chatkeep.core.answering.service import answer_summaries
from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.types import MessageListQuery, NewMessage

router = APIRouter(prefix="/sessions/{session_id}/messages", tags=["messages"])


@router.get("", summary="List a session's messages, oldest first")
async def list_messages(
    session_id: uuid.UUID,
    uow: DbUnit,
    principal: CurrentPrincipal,
    newest_first: bool = False,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 50,
    cursor: CursorParam = None,
    user_id: UserIdParam = None,
) -> Page[MessageOut]:
    query = MessageListQuery(
        session_id=session_id,
        user_id=user_id,
        newest_first=newest_first,
        limit=limit,
        cursor=cursor,
    )
    page = await messages.list_messages(uow, principal, query)
    produced = await answer_summaries(
        uow, principal, [m.id for m in page.items if m.role == "assistant"]
    )
    return Page(
        data=[MessageOut.of(m, produced.get(m.id)) for m in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Append a message",
    description="With an `Idempotency-Key` header, a retry of the same request returns the "
    "first result (marked `Idempotent-Replayed: true`) instead of appending twice; the "
    "same key with a different request is a 422.",
)
async def append_message(
    session_id: uuid.UUID,
    body: MessageCreate,
    uow: DbUnit,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: Annotated[str | None, Header()] = None,
    user_id: UserIdParam = None,
) -> MessageOut:
    new = NewMessage(
        role=body.role,
        content=body.content,
        metadata=body.metadata,
        idempotency_key=idempotency_key,
    )
    result = await messages.append_message(uow, principal, session_id, new, user_id=user_id)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return MessageOut.of(result.message)
