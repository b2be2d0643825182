"""Chat and ChatStream: a question asked through the core answer engine, as the SDK reads it.

Everything the request can get wrong (credentials, scope, session, question, documentIds)
is checked in the request's own transaction, which is then committed (an AK/SK nonce is
burned only by a request that got this far) and ended, so nothing is held while the
model thinks. The engine then stores the question and owns the generation: a client
that goes away does not stop it. The shapes and codes are in docs/aidoc.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import Field, StrictInt, StrictStr
from starlette.responses import Response

from chatkeep.api.aidoc.answer_items import ChatContext, DocumentUrl
from chatkeep.api.aidoc.chat_responses import answer_stream, finished_answer
from chatkeep.api.aidoc.deps import AidocPrincipal, RequestId, records_a_nonce
from chatkeep.api.aidoc.errors import AidocError, invalid_parameter
from chatkeep.api.aidoc.route import AidocRoute
from chatkeep.api.aidoc.schemas import AidocModel, ChatItem, Envelope, millis
from chatkeep.api.deps import DbUnit, app_state, reads_only
from chatkeep.api.document_links import document_url
from chatkeep.api.sse import MEDIA_TYPE
from chatkeep.core import limits
from chatkeep.core.answering.lifecycle import AnswerEngine
from chatkeep.core.answering.records import AnswerRecord, AskRequest
from chatkeep.core.auth import require
from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge.document_numbers import (
    DOCUMENT_IDS_MAX,
    NUMBER_MAX,
    documents_in_domain,
)
from chatkeep.core.sessions import load_session
from chatkeep.core.types import Principal, Scope, SessionRecord
from chatkeep.core.uow import UnitOfWork

QUESTION_MAX = 32 * 1024  # characters, as a native question
# The SDK's default read timeout is 10 s of silence: a keep-alive at least every 5 s.
PING_SECONDS_MAX = 5.0

UNKNOWN_DOCUMENT = "InvalidDocumentId.NotFound"
UNKNOWN_DOCUMENT_MESSAGE = (
    "A document in documentIds does not exist in the session's folder or its subfolders."
)

CHAT_DOC = (
    "The finished ChatItem. While the model is silent, a space is sent every 5 s at most "
    "(JSON allows leading whitespace); after the first one the status is 200 even if the "
    "answer then fails, and `data.answer` says so (docs/aidoc.md)."
)
STREAM_DOC = (
    "Events whose data is `{requestId, data: ChatItem}`: the first carries `refDocList` and "
    "an empty `answer`, each later one the answer's next piece (`answer` is a delta); "
    "`event: error` if the answer fails; `: ping` comments at most 5 s apart."
)

router = APIRouter(prefix="/api/v2/aidoc/document/chat", route_class=AidocRoute)

DocumentNumber = Annotated[StrictInt, Field(ge=1, le=NUMBER_MAX)]


class ChatRequest(AidocModel):
    session_id: uuid.UUID
    question: StrictStr = Field(max_length=QUESTION_MAX)
    document_ids: list[DocumentNumber] | None = Field(
        default=None, max_length=DOCUMENT_IDS_MAX,
        description="Answer from only these documents (integer ids) of the session's folder "
        "subtree; empty or absent: the whole subtree.",
    )  # fmt: skip


@router.post(
    "",
    name="Chat",
    summary="Ask a question in a session; the finished answer",
    response_model=None,
    responses={200: {"model": Envelope[ChatItem], "description": CHAT_DOC}},
)
@reads_only(unless=records_a_nonce)
async def chat(
    body: ChatRequest, request: Request, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Response:
    asked = await _ask(body, request, uow, principal)
    events = _engine(request).tail_events(principal.tenant_id, asked.answer.id, 0)
    return finished_answer(events, asked.context, rid, asked.url, _ping_seconds(request))


@router.post(
    "/stream",
    name="ChatStream",
    summary="Ask a question in a session; the answer as server-sent events",
    response_model=None,
    responses={200: {"description": STREAM_DOC,
                     "content": {MEDIA_TYPE: {"schema": {"type": "string"}}}}},
)  # fmt: skip
@reads_only(unless=records_a_nonce)
async def chat_stream(
    body: ChatRequest, request: Request, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Response:
    asked = await _ask(body, request, uow, principal)
    events = _engine(request).tail_events(principal.tenant_id, asked.answer.id, 0)
    return answer_stream(events, asked.context, rid, asked.url, _ping_seconds(request))


@dataclass(frozen=True, slots=True)
class Asked:
    answer: AnswerRecord
    context: ChatContext
    url: DocumentUrl


async def _ask(body: ChatRequest, request: Request, uow: UnitOfWork, principal: Principal) -> Asked:
    # RAM-style: the action's scope first, so a missing scope is a 403 whatever the body.
    require(principal, Scope.MESSAGES_WRITE, "ask questions")
    if not body.question.strip():
        raise invalid_parameter("question", "must not be blank.")
    limits.check_text(body.question, "question")
    session = await load_session(uow, principal, body.session_id, None)
    documents = await _documents(uow, principal, body.document_ids, session)
    # Commit (a signature's nonce) and end the transaction: the engine opens its own, and
    # on SQLite a write lock held here would wait on it for ever.
    await uow.db.commit()
    ask = AskRequest(session_id=session.uuid, question=body.question, document_ids=documents)
    answer = await _engine(request).ask(principal, ask)

    def url(document_id: uuid.UUID) -> str:
        return document_url(request, principal.tenant_id, document_id)

    return Asked(answer, _context(session, body.question, answer.created_at), url)


def _context(session: SessionRecord, question: str, asked_at: datetime) -> ChatContext:
    """``asked_at`` stands in until the stream's ``question`` event gives the question's
    own time (the ``createTime`` GetChatList shows)."""
    return ChatContext(question, millis(asked_at), str(session.domain_id), session.domain_name)


async def _documents(
    uow: UnitOfWork, principal: Principal, numbers: list[int] | None, session: SessionRecord
) -> list[uuid.UUID] | None:
    if not numbers:
        return None  # the whole folder subtree
    try:
        return await documents_in_domain(uow, principal, numbers, session.domain_id)
    except NotFound:
        raise AidocError(UNKNOWN_DOCUMENT, UNKNOWN_DOCUMENT_MESSAGE, 404) from None


def _engine(request: Request) -> AnswerEngine:
    engine: AnswerEngine = request.app.state.answers
    return engine


def _ping_seconds(request: Request) -> float:
    return min(app_state(request).settings.answer_ping_seconds, PING_SECONDS_MAX)
