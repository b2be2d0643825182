"""GetChatSessionList, CreateChatSession, GetChatList."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from chatkeep.api.aidoc.deps import AidocPrincipal, RequestId, records_a_nonce
from chatkeep.api.aidoc.qa import chat_item
from chatkeep.api.aidoc.route import AidocRoute
from chatkeep.api.aidoc.schemas import (
    ChatListData,
    ChatListRequest,
    CreatedSession,
    CreateSessionRequest,
    Envelope,
    SessionItem,
    SessionListData,
    SessionListRequest,
    total_pages,
)
from chatkeep.api.deps import DbUnit, reads_only
from chatkeep.api.document_links import document_url
from chatkeep.core import sessions
from chatkeep.core.auth import require
from chatkeep.core.qa_pairs import qa_page
from chatkeep.core.types import (
    NewSession,
    OffsetPage,
    Principal,
    Scope,
    SessionFilter,
    SessionOrder,
    SessionRecord,
)
from chatkeep.core.uow import UnitOfWork

router = APIRouter(prefix="/api/v2/aidoc/document/chat", route_class=AidocRoute)


@router.post("/session/list", name="GetChatSessionList", summary="List a user's Q&A sessions")
@reads_only(unless=records_a_nonce)
async def get_chat_session_list(
    uow: DbUnit, principal: AidocPrincipal, rid: RequestId, body: SessionListRequest | None = None
) -> Envelope[SessionListData]:
    return Envelope(request_id=rid, data=await session_page(uow, principal, body))


async def session_page(
    uow: UnitOfWork, principal: Principal, body: SessionListRequest | None
) -> SessionListData:
    """Most recently updated first; a page past the end is empty but keeps the true totals."""
    body = body or SessionListRequest()
    flt = SessionFilter(user_id=body.user_id or None, q=body.name or None)
    offset = (body.current_page - 1) * body.page_size
    page = await sessions.page_sessions(
        uow, principal, flt, SessionOrder.UPDATED_DESC, offset=offset, limit=body.page_size
    )
    return session_list_data(page, body)


def session_list_data(page: OffsetPage[SessionRecord], body: SessionListRequest) -> SessionListData:
    return SessionListData(
        session_list=[SessionItem.of(s) for s in page.items], total=page.total,
        total_page=total_pages(page.total, body.page_size),
        current_page=body.current_page, page_size=body.page_size,
    )  # fmt: skip


@router.post("/session/create", name="CreateChatSession", summary="Create a Q&A session")
async def create_chat_session(
    uow: DbUnit, principal: AidocPrincipal, rid: RequestId, body: CreateSessionRequest | None = None
) -> Envelope[CreatedSession]:
    body = body or CreateSessionRequest()
    new = NewSession(title=body.name, domain_id=body.folder_id, user_id=body.user_id or None)
    created = await sessions.create_session(uow, principal, new)
    return Envelope(request_id=rid, data=CreatedSession(session_id=str(created.uuid)))


@router.post("/list", name="GetChatList", summary="List a session's Q&A pairs, oldest first")
@reads_only(unless=records_a_nonce)
async def get_chat_list(
    body: ChatListRequest, request: Request, uow: DbUnit, principal: AidocPrincipal,
    rid: RequestId,
) -> Envelope[ChatListData]:  # fmt: skip
    # RAM-style: the action needs both scopes, checked before the session is looked up,
    # so a missing scope is a 403 whether or not the session exists or is the caller's.
    require(principal, Scope.MESSAGES_READ, "read messages")
    session = await sessions.get_session(uow, principal, body.session_id)
    offset = (body.current_page - 1) * body.page_size
    page = await qa_page(uow, principal, session, offset=offset, limit=body.page_size)

    def url(document_id: uuid.UUID) -> str:
        return document_url(request, principal.tenant_id, document_id)

    chats = [chat_item(pair, session, url) for pair in page.pairs]
    data = ChatListData(
        chat_list=chats, total=page.total, total_page=total_pages(page.total, body.page_size),
        current_page=body.current_page, page_size=body.page_size,
    )  # fmt: skip
    return Envelope(request_id=rid, data=data)
