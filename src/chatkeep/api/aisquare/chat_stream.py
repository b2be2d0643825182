"""``/api/v1/qllm/chat-stream/``: AISquare's streaming chat over the core answer engine.

``POST {session_id}/`` asks (AISquare's documented call); re-attaching
(``GET {session_id}/{answer_id}/``) and cancelling (``POST .../cancel/``) are chatkeep
extensions with the native semantics. Every refusal is a DRF-style answer before the
stream starts; once it has started, failures are ``error`` frames (docs/aisquare.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from chatkeep.api import sse
from chatkeep.api.aisquare.chat_stream_frames import (
    FRAME_SCHEMA,
    Frame,
    frames_for,
    suggest_title,
)
from chatkeep.api.aisquare.chat_stream_sse import chat_event_stream
from chatkeep.api.aisquare.deps import UnheldPrincipal, UserIdParam, chat_session_id
from chatkeep.api.aisquare.errors import ChatSessionNotFound
from chatkeep.api.aisquare.routing import route
from chatkeep.api.aisquare.schemas import ChatStreamAnswer, StreamingChatRequest
from chatkeep.api.deps import app_state
from chatkeep.api.document_links import document_url
from chatkeep.api.sse import MEDIA_TYPE
from chatkeep.core import limits
from chatkeep.core.answering import service
from chatkeep.core.answering.lifecycle import AnswerEngine
from chatkeep.core.answering.records import AnswerEvent, AnswerRecord, AskRequest
from chatkeep.core.auth import require
from chatkeep.core.errors import InvalidArgument, NotFound
from chatkeep.core.sessions import load_session
from chatkeep.core.types import Principal, Scope, SessionRecord
from chatkeep.runtime import unit_of_work

router = APIRouter(prefix="/chat-stream", tags=["aisquare"])

FRAMES_DOC = (
    "`200 text/event-stream`: one JSON object per `data:` line, told apart by `type`: "
    "`start`, `token`…, then `complete`, `metadata`, `end` (or `error`, `end`); `: ping` "
    "comments while the model is silent. Payloads: docs/aisquare.md."
)
# OpenAPI 3.1 has an event stream's ``schema`` describe one event, as SSE parsers read it.
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": FRAME_SCHEMA},
    },
}  # fmt: skip
_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"description": FRAMES_DOC, "content": {MEDIA_TYPE: {"schema": EVENT_SCHEMA}}}
}
_PROMPT_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": StreamingChatRequest.model_json_schema()}},
    }
}
# What the core calls the prompt when it refuses it.
_PROMPT_FIELDS = frozenset({"question", "content"})


def stream_session_id(session_id: str) -> int:
    """The path's integer id; anything else is AISquare's "Chat session not found"."""
    try:
        return chat_session_id(session_id)
    except NotFound:
        raise ChatSessionNotFound() from None


def answer_path_id(answer_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(answer_id)
    except ValueError:
        raise NotFound("answer") from None


StreamSessionId = Annotated[int, Depends(stream_session_id)]
AnswerId = Annotated[uuid.UUID, Depends(answer_path_id)]


@route(
    router, "POST", "/{session_id}/",
    summary="Streaming Chat",
    description=FRAMES_DOC + " With an `Idempotency-Key` header, a retried POST re-attaches "
    "to the answer the first one started (its frames from the first).",
    response_class=Response, responses=_STREAM_RESPONSE, openapi_extra=_PROMPT_BODY,
)  # fmt: skip
async def stream_chat(
    request: Request,
    session_id: StreamSessionId,
    principal: UnheldPrincipal,
    idempotency_key: Annotated[str | None, Header()] = None,
    user_id: UserIdParam = None,
) -> Response:
    # Parsed here, after authentication (DRF parses the body lazily, in the view).
    prompt = parse_prompt(await request.body())
    session = await _chat_session(request, principal, session_id, user_id, Scope.MESSAGES_WRITE)
    ask = AskRequest(session_id=session.uuid, question=prompt,
                     idempotency_key=idempotency_key, user_id=user_id)  # fmt: skip
    try:
        answer = await _engine(request).ask(principal, ask)
    except NotFound:  # deleted since it was looked up
        raise ChatSessionNotFound() from None
    except InvalidArgument as exc:
        if exc.field in _PROMPT_FIELDS:
            raise InvalidArgument("prompt", exc.detail) from None
        raise
    title = None if session.title else suggest_title(prompt)
    return _stream(request, principal, session.id, answer, 0, title)


@route(
    router, "GET", "/{session_id}/{answer_id}/",
    summary="Re-attach to a chat stream (chatkeep extension)",
    description="The frames after `Last-Event-ID` (or `after`), then the live ones until "
    "`end`, from any worker.",
    response_class=Response, responses=_STREAM_RESPONSE,
)  # fmt: skip
async def reattach_chat_stream(
    request: Request,
    session_id: StreamSessionId,
    answer_id: AnswerId,
    principal: UnheldPrincipal,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
) -> Response:
    start = after if after is not None else sse.last_event_id(last_event_id)
    session = await _chat_session(request, principal, session_id, None, Scope.MESSAGES_READ)
    answer = await _answer_in(request, principal, session, answer_id)
    if start > answer.last_event_id:
        field = "after" if after is not None else "Last-Event-ID"
        raise InvalidArgument(field, "No such event in this answer.")
    title = None if session.title else suggest_title(await _question(request, principal, answer))
    return _stream(request, principal, session.id, answer, start, title)


@route(
    router, "POST", "/{session_id}/{answer_id}/cancel/",
    summary="Cancel a chat stream's answer (chatkeep extension)",
    description="Stops the answer wherever it is generated; what was written stays. The "
    "stream ends with `complete` (status `cancelled`), `metadata`, `end`.",
    response_model=ChatStreamAnswer,
)  # fmt: skip
async def cancel_chat_stream(
    request: Request, session_id: StreamSessionId, answer_id: AnswerId, principal: UnheldPrincipal
) -> ChatStreamAnswer:
    session = await _chat_session(request, principal, session_id, None, Scope.MESSAGES_WRITE)
    await _answer_in(request, principal, session, answer_id)
    cancelled = await _engine(request).cancel(principal, answer_id)
    return ChatStreamAnswer.of(cancelled, session.id)


def parse_prompt(body: bytes) -> str:
    """The body's prompt, refused with DRF's field errors; an empty body is ``{}``, as
    DRF's parser reads it. Python's JSON parser, as FastAPI's bodies use: it reads a lone
    surrogate escape, which the core then refuses as a field error, not as bad JSON."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:  # also bytes that are not UTF-8
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body",)}]) from None
    if not isinstance(data, dict):  # DRF's own wording for a body that is no object
        found = f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
        raise InvalidArgument("body", "No data provided" if data is None else found)
    try:
        prompt = StreamingChatRequest.model_validate(data).prompt
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None
    limits.check_text(prompt, "prompt")
    return prompt


def _engine(request: Request) -> AnswerEngine:
    engine: AnswerEngine = request.app.state.answers
    return engine


async def _chat_session(
    request: Request, principal: Principal, session_id: int, user_id: str | None, scope: Scope
) -> SessionRecord:
    """The session if this principal may see it; the scope is checked first, as the native
    calls check it, so a missing scope is a 403 whatever the session."""
    action = "ask questions" if scope is Scope.MESSAGES_WRITE else "read answers"
    require(principal, scope, action)
    async with unit_of_work(app_state(request), write=False) as uow:
        try:
            return await load_session(uow, principal, session_id, user_id)
        except NotFound:
            raise ChatSessionNotFound() from None


async def _answer_in(
    request: Request, principal: Principal, session: SessionRecord, answer_id: uuid.UUID
) -> AnswerRecord:
    """The answer, if it is one of this session's (else not found, like any other id)."""
    answer = await _engine(request).get(principal, answer_id)
    if answer.session_id != session.uuid:
        raise NotFound("answer")
    return answer


async def _question(request: Request, principal: Principal, answer: AnswerRecord) -> str:
    """The prompt, from the answer's first event (which stores it)."""
    async with unit_of_work(app_state(request), write=False) as uow:
        first = await service.events_after(uow, principal.tenant_id, answer.id, 0, 1)
    return str(orjson.loads(first[0].data)["question"]["content"]) if first else ""


def _stream(
    request: Request,
    principal: Principal,
    session_id: int,
    answer: AnswerRecord,
    after: int,
    title: str | None,
) -> Response:
    tenant = principal.tenant_id

    def render(event: AnswerEvent) -> list[Frame]:
        return frames_for(
            event.type, event.id, orjson.loads(event.data), session_id=session_id,
            suggested_title=title,
            link=lambda document_id: document_url(request, tenant, uuid.UUID(document_id)),
        )  # fmt: skip

    if not answer.running and after >= answer.last_event_id:
        events = _no_events()  # the client has seen the end already
    else:
        events = _engine(request).tail_events(tenant, answer.id, after)
    ping = app_state(request).settings.answer_ping_seconds
    return chat_event_stream(events, render, str(answer.id), ping)


async def _no_events() -> AsyncIterator[AnswerEvent]:
    return
    yield
