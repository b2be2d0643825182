"""``/api/v1/qllm/chat-sessions/{id}/messages/`` (a chatkeep extension): a session's turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from chatkeep.api.aisquare.deps import ChatSessionId, CurrentPrincipal, UserIdParam
from chatkeep.api.aisquare.routing import route
from chatkeep.api.aisquare.schemas import MessageCreate, MessageOut
from chatkeep.api.aisquare.streaming import stream_json_array
from chatkeep.api.deps import DbUnit, app_state
from chatkeep.core import messages
from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.sessions import load_session
from chatkeep.core.types import MessageListQuery, NewMessage, Principal
from chatkeep.core.uow import UnitOfWork

router = APIRouter(prefix="/chat-sessions/{session_id}/messages", tags=["aisquare"])


@route(
    router, "GET", "/",
    response_model=list[MessageOut],
    summary="A chat session's messages, oldest first (streamed)",
)  # fmt: skip
async def list_chat_messages(
    request: Request, session_id: ChatSessionId, principal: CurrentPrincipal,
    user_id: UserIdParam = None,
) -> Response:  # fmt: skip
    return await stream_json_array(
        app_state(request), lambda read: _all_messages(read, principal, session_id, user_id)
    )


async def _all_messages(
    uow: UnitOfWork, principal: Principal, session_id: int, user_id: str | None
) -> AsyncIterator[MessageOut]:
    """Walks the core's cursor pages; the core lists by the session's UUID."""
    session = await load_session(uow, principal, session_id, user_id)
    cursor: str | None = None
    while True:
        query = MessageListQuery(session.uuid, user_id=user_id, limit=PAGE_MAX, cursor=cursor)
        page = await messages.list_messages(uow, principal, query)
        for message in page.items:
            yield MessageOut.of(message, session.id)
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


@route(router, "POST", "/", status_code=status.HTTP_201_CREATED, summary="Append a message")
async def append_chat_message(
    session_id: ChatSessionId,
    body: MessageCreate,
    uow: DbUnit,
    principal: CurrentPrincipal,
    response: Response,
    idempotency_key: Annotated[str | None, Header()] = None,
    user_id: UserIdParam = None,
) -> MessageOut:
    new = NewMessage(body.role, body.content, body.metadata, idempotency_key)
    result = await messages.append_message(uow, principal, session_id, new, user_id=user_id)
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return MessageOut.of(result.message, session_id)
