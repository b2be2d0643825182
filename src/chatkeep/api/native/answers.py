"""Native answers: ask, re-attach, cancel, regenerate (event contract: docs/native-api.md).

Every error is a problem+json response before the stream starts: the engine stores the
question and opens the answer, and only then does the event stream begin.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field, StrictBool, StrictStr
from starlette.responses import JSONResponse, Response, StreamingResponse

from chatkeep.api import sse
from chatkeep.api.native.deps import UnheldPrincipal
from chatkeep.api.native.schemas import RequestModel
from chatkeep.api.native.sessions import UserIdParam
from chatkeep.api.sse import MEDIA_TYPE, event_stream
from chatkeep.core.answering.events import answer_json
from chatkeep.core.answering.lifecycle import AnswerEngine
from chatkeep.core.answering.records import AnswerEvent, AnswerRecord, AskRequest
from chatkeep.core.answering.service import MAX_DOCUMENT_IDS
from chatkeep.core.errors import InvalidArgument
from chatkeep.core.types import Principal

router = APIRouter(tags=["answers"])

QUESTION_MAX = 32 * 1024
STREAM_DOC = (
    "`stream=true` (default): `200 text/event-stream` with events `question`, `references`, "
    "`delta`…, then `done` or `error` (ids 1, 2, 3… per answer; `: ping` comments keep the "
    "connection alive). `stream=false`: `200` with the finished Answer as JSON."
)


class AnswerCreate(RequestModel):
    question: StrictStr = Field(min_length=1, max_length=QUESTION_MAX)
    document_ids: list[uuid.UUID] | None = Field(
        default=None, max_length=MAX_DOCUMENT_IDS,
        description="Answer from exactly these documents instead of the session's domain.",
    )  # fmt: skip
    stream: StrictBool = True


class RegenerateBody(RequestModel):
    stream: StrictBool = True


class Usage(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None


class ReferenceOut(BaseModel):
    n: int = Field(description="1-based: the [n] the answer cites.")
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_name: str
    page_start: int | None
    page_end: int | None
    char_start: int
    char_end: int
    heading_path: list[str]
    score: float
    text: str
    cited: bool


class AnswerOut(BaseModel):
    id: uuid.UUID
    session_id: uuid.UUID
    question_message_id: int
    message_id: int
    status: str = Field(description="running | complete | cancelled | failed | incomplete")
    content: str
    references: list[ReferenceOut]
    model: str | None
    usage: Usage
    error: str | None
    created_at: str
    finished_at: str | None
    alternatives: list[uuid.UUID] = Field(description="Answers to the same question, latest first.")


# OpenAPI 3.1 has an event stream's ``schema`` describe one event, as SSE parsers read it.
EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "event", "data"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$"},
        "event": {"enum": ["question", "references", "delta", "done", "error"]},
        "data": {"type": "string", "contentMediaType": "application/json"},
    },
}
_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": STREAM_DOC,
        "content": {
            MEDIA_TYPE: {"schema": EVENT_SCHEMA},
            "application/json": {"schema": {"$ref": "#/components/schemas/AnswerOut"}},
        },
    }
}


def _engine(request: Request) -> AnswerEngine:
    engine: AnswerEngine = request.app.state.answers
    return engine


def _json(answer: AnswerRecord) -> JSONResponse:
    return JSONResponse(answer_json(answer))


async def _respond(
    request: Request, principal: Principal, answer: AnswerRecord, stream: bool
) -> Response:
    engine = _engine(request)
    if not stream:
        # Waited for in the response body, after the request's transaction has ended, so
        # a long answer holds no database connection while it is generated.
        async def finished() -> AsyncIterator[bytes]:
            yield orjson.dumps(answer_json(await engine.wait_finished(principal, answer.id)))

        return StreamingResponse(finished(), media_type="application/json")
    events = engine.tail_events(principal.tenant_id, answer.id, 0)
    return event_stream(events, request.app.state.chatkeep.settings.answer_ping_seconds)


@router.post(
    "/sessions/{session_id}/answers",
    summary="Ask a question in a session",
    response_class=Response,
    responses=_STREAM_RESPONSES,
    description=STREAM_DOC + " With an `Idempotency-Key` header, a retried POST re-attaches to "
    "the answer the first one started (its events from the first).",
)
async def ask(
    session_id: uuid.UUID,
    body: AnswerCreate,
    request: Request,
    principal: UnheldPrincipal,
    idempotency_key: Annotated[str | None, Header()] = None,
    user_id: UserIdParam = None,
) -> Response:
    ask = AskRequest(
        session_id=session_id, question=body.question, document_ids=body.document_ids,
        idempotency_key=idempotency_key, user_id=user_id,
    )  # fmt: skip
    answer = await _engine(request).ask(principal, ask)
    return await _respond(request, principal, answer, body.stream)


@router.get("/answers/{answer_id}", summary="An answer", response_model=AnswerOut)
async def get_answer(answer_id: uuid.UUID, request: Request, principal: UnheldPrincipal) -> Any:
    return _json(await _engine(request).get(principal, answer_id))


@router.get(
    "/answers/{answer_id}/events",
    summary="Re-attach to an answer's events",
    response_class=Response,
    responses={200: {"description": "The events after `Last-Event-ID` (or `after`), then the "
                     "live ones until `done` or `error`, from any worker.",
                     "content": {MEDIA_TYPE: {"schema": EVENT_SCHEMA}}}},
)  # fmt: skip
async def answer_events(
    answer_id: uuid.UUID,
    request: Request,
    principal: UnheldPrincipal,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    start = after if after is not None else sse.last_event_id(last_event_id)
    engine = _engine(request)
    answer = await engine.get(principal, answer_id)  # 404 before the stream, not inside it
    # Past the last event nothing would ever come: refused, or (at it) an empty stream.
    if start > answer.last_event_id:
        raise InvalidArgument("after" if after is not None else "Last-Event-ID",
                              "no such event in this answer")  # fmt: skip
    finished = not answer.running and start == answer.last_event_id
    events = _no_events() if finished else engine.tail_events(principal.tenant_id, answer_id, start)
    return event_stream(events, request.app.state.chatkeep.settings.answer_ping_seconds)


async def _no_events() -> AsyncIterator[AnswerEvent]:
    return
    yield


@router.post("/answers/{answer_id}/cancel", summary="Cancel an answer", response_model=AnswerOut)
async def cancel_answer(answer_id: uuid.UUID, request: Request, principal: UnheldPrincipal) -> Any:
    return _json(await _engine(request).cancel(principal, answer_id))


@router.post(
    "/answers/{answer_id}/regenerate",
    summary="Answer the same question again (the earlier answer stays an alternative)",
    response_class=Response,
    responses=_STREAM_RESPONSES,
)
async def regenerate_answer(
    answer_id: uuid.UUID,
    request: Request,
    principal: UnheldPrincipal,
    body: RegenerateBody | None = None,
) -> Response:
    answer = await _engine(request).regenerate(principal, answer_id)
    return await _respond(request, principal, answer, body.stream if body else True)
