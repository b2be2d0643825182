"""``/api/v1/qllm/chat-sessions/``: the seed's list, and chatkeep's sibling endpoints."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Protocol

import orjson
from fastapi import APIRouter, Body, Query, Request, Response, status

from chatkeep.api.aisquare.deps import (
    ChatSessionId,
    CurrentPrincipal,
    LimitParam,
    OffsetParam,
    UserIdParam,
    WireUUID,
)
from chatkeep.api.aisquare.routing import PREFIX, route
from chatkeep.api.aisquare.schemas import ChatSessionCreate, ChatSessionOut, ChatSessionUpdate
from chatkeep.api.aisquare.streaming import CHUNK_ITEMS, stream_json_array
from chatkeep.api.deps import DbUnit, app_state
from chatkeep.core import sessions
from chatkeep.core.errors import InvalidArgument, NotFound
from chatkeep.core.types import (
    NewSession,
    SessionChanges,
    SessionFilter,
    SessionOrder,
    SessionRecord,
)
from chatkeep.core.uow import UnitOfWork

router = APIRouter(prefix="/chat-sessions", tags=["aisquare"])

# A list this long or shorter is answered in one piece; a longer one is streamed.
SMALL_LIST = CHUNK_ITEMS

# An empty value means "no filter" (django-filter's behaviour), so the document says so.
DomainIdQuery = Annotated[
    WireUUID,
    Query(
        description="Filter chat sessions by the domain UID; empty means no filter.",
        json_schema_extra={
            "anyOf": [{"type": "string", "format": "uuid"}, {"type": "string", "maxLength": 0}]
        },
    ),
]


@route(
    router, "GET", "/",
    response_model=list[ChatSessionOut],
    summary="User Chat Sessions",
    description="All the user's chat sessions: pinned first, then most recent activity. "
    "Streamed. `limit`/`offset` (with an `X-Total-Count` header) and `user_id` are "
    "chatkeep extensions.",
)  # fmt: skip
async def list_chat_sessions(
    request: Request,
    uow: DbUnit,
    principal: CurrentPrincipal,
    domain_id: DomainIdQuery = None,
    user_id: UserIdParam = None,
    limit: LimitParam = None,
    offset: OffsetParam = None,
) -> Response:
    flt = SessionFilter(user_id=user_id, domain_id=domain_id)
    if limit is not None:  # a page (at most PAGE_MAX rows) and its total, one snapshot
        page = await sessions.page_sessions(
            uow, principal, flt, SessionOrder.RECENT, offset=offset or 0, limit=limit
        )
        return _small_list(page.items, {"X-Total-Count": str(page.total)})
    headers = {}
    if offset is not None:
        headers["X-Total-Count"] = str(await sessions.count_sessions(uow, principal, flt))
    found = sessions.stream_sessions(uow, principal, flt, SessionOrder.RECENT, offset=offset or 0)
    first: list[SessionRecord] = []
    async for session in found:
        first.append(session)
        if len(first) > SMALL_LIST:
            await found.aclose()
            break
    else:
        return _small_list(first, headers)

    # A long list: streamed from a transaction of its own, which outlives this handler's.
    async def produce(read: UnitOfWork) -> AsyncIterator[ChatSessionOut]:
        rest = sessions.stream_sessions(read, principal, flt, offset=offset or 0)
        async for session in rest:
            yield ChatSessionOut.of(session)

    return await stream_json_array(app_state(request), produce, headers)


def _small_list(found: list[SessionRecord], headers: dict[str, str]) -> Response:
    """The whole body in one encode, from the request's own transaction."""
    return Response(encode_chat_sessions(found), media_type="application/json", headers=headers)


class ChatSessionFields(Protocol):
    """What an item shows: a ``SessionRecord``, or the fast lane's narrower row."""

    @property
    def id(self) -> int: ...
    @property
    def system_context(self) -> str: ...
    @property
    def last_message_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def domain_id(self) -> uuid.UUID: ...
    @property
    def domain_name(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def is_pinned(self) -> bool: ...


def encode_chat_sessions(found: Sequence[ChatSessionFields]) -> bytes:
    """A short list's JSON (also the fast lane's)."""
    items = [chat_session_item(s) for s in found]
    return orjson.dumps(items, default=_uuid_subclass, option=orjson.OPT_UTC_Z)


def _uuid_subclass(value: object) -> str:
    # asyncpg returns its own UUID subclass, which orjson does not take for a UUID.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def chat_session_item(s: ChatSessionFields) -> dict[str, Any]:
    """``ChatSessionOut``'s JSON as a plain dict, ~10x cheaper to build and encode than the
    model (the model stays the documented schema; a test keeps the two byte-identical)."""
    return {
        "id": s.id, "system_context": s.system_context,
        "last_message_at": s.last_message_at or s.created_at,
        "domain_id": s.domain_id, "domain_name": s.domain_name, "title": s.title,
        "is_pinned": s.is_pinned,
    }  # fmt: skip


@route(router, "POST", "/", status_code=status.HTTP_201_CREATED, summary="Create a chat session")
async def create_chat_session(
    uow: DbUnit,
    principal: CurrentPrincipal,
    response: Response,
    body: Annotated[ChatSessionCreate | None, Body()] = None,
    user_id: UserIdParam = None,
) -> ChatSessionOut:
    body = body or ChatSessionCreate()
    new = NewSession(
        title=body.title,
        domain_id=body.domain_id,
        system_context=body.system_context,
        user_id=user_id,
    )
    try:
        session = await sessions.create_session(uow, principal, new)
    except NotFound as exc:  # the only thing create can miss is the named domain
        raise InvalidArgument("domain_id", "No domain with this id.") from exc
    response.headers["Location"] = f"{PREFIX}{router.prefix}/{session.id}/"
    return ChatSessionOut.of(session)


@route(router, "GET", "/{session_id}/", summary="Read a chat session")
async def read_chat_session(
    session_id: ChatSessionId, uow: DbUnit, principal: CurrentPrincipal, user_id: UserIdParam = None
) -> ChatSessionOut:
    session = await sessions.get_session(uow, principal, session_id, user_id=user_id)
    return ChatSessionOut.of(session)


@route(router, "PATCH", "/{session_id}/", summary="Rename, pin or edit a chat session")
async def update_chat_session(
    session_id: ChatSessionId,
    body: ChatSessionUpdate,
    uow: DbUnit,
    principal: CurrentPrincipal,
    user_id: UserIdParam = None,
) -> ChatSessionOut:
    changes = SessionChanges(**body.model_dump(exclude_unset=True))
    session = await sessions.update_session(uow, principal, session_id, changes, user_id=user_id)
    return ChatSessionOut.of(session)


@route(
    router, "DELETE", "/{session_id}/",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a chat session and its messages",
)  # fmt: skip
async def delete_chat_session(
    session_id: ChatSessionId, uow: DbUnit, principal: CurrentPrincipal, user_id: UserIdParam = None
) -> None:
    await sessions.delete_session(uow, principal, session_id, user_id=user_id)
