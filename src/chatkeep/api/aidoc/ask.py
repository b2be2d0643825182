"""SendDocumentAskQuestion: the older v1 Q&A, answered by the core answer engine.

The reply is one JSON body, so nothing can keep the connection alive while the model
works: the handler waits (with no transaction open) for the finished answer, at most
``aidoc_ask_max_wait_seconds``, and only then chooses the status. Without a
``sessionId`` each question gets a session of its own (Alibaba: "sessions are not
distinguished"), in ``folderId`` or the default folder, titled with the question.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Request

from chatkeep.api.aidoc.deps import AidocPrincipal, RequestId
from chatkeep.api.aidoc.document_schemas import AskAnswer, AskQuestionRequest
from chatkeep.api.aidoc.documents import parse_folder_id
from chatkeep.api.aidoc.errors import AidocError, invalid_parameter
from chatkeep.api.aidoc.route import AidocRoute
from chatkeep.api.aidoc.schemas import Envelope
from chatkeep.api.deps import DbUnit, app_state
from chatkeep.api.document_links import document_url
from chatkeep.core import limits, sessions
from chatkeep.core.answering.lifecycle import AnswerEngine
from chatkeep.core.answering.records import AnswerRecord, AskRequest
from chatkeep.core.auth import require
from chatkeep.core.errors import ChatkeepError, InvalidArgument
from chatkeep.core.types import NewSession, Principal, Scope, SessionRecord
from chatkeep.core.uow import UnitOfWork
from chatkeep.runtime import unit_of_work

router = APIRouter(route_class=AidocRoute)
TITLE_CHARS = 100  # a new session's title: the question's first line, cut here


@router.post(
    "/api/v1/aidoc/document/sendDocumentAskQuestion",
    name="SendDocumentAskQuestion",
    summary="Ask a question and wait for the finished answer",
    description="Waits at most CHATKEEP_AIDOC_ASK_MAX_WAIT_SECONDS (60) for the answer: then "
    "504 AnswerTimeout, while the answer goes on in its session (GetChatList shows it).",
)
async def send_document_ask_question(
    body: AskQuestionRequest,
    request: Request,
    uow: DbUnit,
    principal: AidocPrincipal,
    rid: RequestId,
) -> Envelope[AskAnswer]:
    # Asking writes the question and reads the answer back: both scopes, checked first.
    require(principal, Scope.MESSAGES_WRITE, "ask questions")
    require(principal, Scope.MESSAGES_READ, "read answers")
    check_prompt(uow, body.prompt)
    session, created = await ask_session(uow, principal, body)
    await uow.db.commit()  # the answer is generated and waited for with nothing held open
    engine: AnswerEngine = request.app.state.answers
    try:
        with prompt_errors():
            answer = await engine.ask(principal, AskRequest(session.uuid, body.prompt))
    except ChatkeepError:
        if created:  # refused before anything was asked: the new session goes too
            await forget_session(request, principal, session.uuid)
        raise
    finished = await wait_for_answer(request, engine, principal, answer, session)
    links = [document_url(request, principal.tenant_id, d) for d in referenced(finished)]
    return Envelope(request_id=rid, data=AskAnswer(answer=finished.content, document=links))


def check_prompt(uow: UnitOfWork, prompt: str) -> None:
    """What the engine would refuse, refused before a session is made for it."""
    if not prompt.strip():
        raise invalid_parameter("prompt", "must not be empty.")
    with prompt_errors():
        limits.check_text(prompt, "prompt")
    max_bytes = uow.config.max_message_bytes
    if len(prompt.encode()) > max_bytes:
        raise invalid_parameter("prompt", f"must be at most {max_bytes} bytes (UTF-8).")


async def ask_session(
    uow: UnitOfWork, principal: Principal, body: AskQuestionRequest
) -> tuple[SessionRecord, bool]:
    """The caller's session ``sessionId``, or a new one; and whether it is new."""
    folder = parse_folder_id(body.folder_id)
    if body.session_id:
        try:
            session_id = uuid.UUID(body.session_id)
        except ValueError:
            raise invalid_parameter("sessionId", "not a session ID.") from None
        session = await sessions.load_session(uow, principal, session_id, None)
        if folder is not None and folder != session.domain_id:
            raise invalid_parameter(
                "folderId", "the session is in another folder: leave folderId empty, or give "
                "the session's own folder.",
            )  # fmt: skip
        return session, False
    title = body.prompt.strip().splitlines()[0][:TITLE_CHARS]
    new = NewSession(title=title, domain_id=folder)
    return await sessions.create_session(uow, principal, new), True


async def forget_session(request: Request, principal: Principal, session_id: uuid.UUID) -> None:
    async with unit_of_work(app_state(request), write=True) as writes:
        await sessions.delete_session(writes, principal, session_id)


async def wait_for_answer(
    request: Request,
    engine: AnswerEngine,
    principal: Principal,
    answer: AnswerRecord,
    session: SessionRecord,
) -> AnswerRecord:
    """The finished answer, or the error its end (or the wait's) means for the caller."""
    max_wait = app_state(request).settings.aidoc_ask_max_wait_seconds
    try:
        async with asyncio.timeout(max_wait):
            finished = await engine.wait_finished(principal, answer.id)
    except TimeoutError:
        raise AidocError(
            "AnswerTimeout", f"The answer was not finished within {max_wait:g} s. It goes "
            f"on in session {session.uuid}: read it there with GetChatList.", 504,
        ) from None  # fmt: skip
    if finished.status == "complete":
        return finished
    if finished.status == "cancelled":
        raise AidocError("AnswerCancelled", "The answer was cancelled before it finished.", 409)
    reason = finished.error or "no reason recorded"
    raise AidocError("AnswerFailed", f"The answer {finished.status}: {reason}", 502)


def referenced(answer: AnswerRecord) -> list[uuid.UUID]:
    """The documents of the passages the answer was generated from, in passage order."""
    found: dict[str, None] = {}
    for reference in answer.references:
        found.setdefault(str(reference["document_id"]), None)
    return [uuid.UUID(d) for d in found]


@contextmanager
def prompt_errors() -> Iterator[None]:
    """The engine names the question ``question`` or ``content``; the SDK user knows ``prompt``."""
    try:
        yield
    except InvalidArgument as exc:
        if exc.field not in ("question", "content", "prompt"):
            raise
        raise invalid_parameter("prompt", f"{exc.detail}.") from None
