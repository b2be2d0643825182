"""SubmitDocParsingTask, GetDocParsingResult, DetailDocument, DeleteDocument, and the two
actions Alibaba deprecated (docs/aidoc.md, "Documents").

A ``taskId`` is the document's UUID: one parsing task per document, so the task's state
is the document's status. The file at ``fileUrl`` is fetched with no transaction open:
the request's own unit of work authenticates and checks the folder, then ends; the
document is stored in a short write transaction of its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Query, Request

from chatkeep.api.aidoc.deps import AidocPrincipal, RequestId, records_a_nonce
from chatkeep.api.aidoc.document_schemas import (
    TASK_ID_MAX,
    AnalyzeResultRequest,
    DocumentDetailItem,
    ParsingResult,
    ParsingResultRequest,
    TaskCreated,
)
from chatkeep.api.aidoc.errors import AidocError, invalid_parameter
from chatkeep.api.aidoc.parsing_result import json_content, markdown
from chatkeep.api.aidoc.route import AidocRoute
from chatkeep.api.aidoc.schemas import FOLDER_ID_MAX, Envelope
from chatkeep.api.deps import DbUnit, app_state, reads_only
from chatkeep.api.document_links import document_url
from chatkeep.core.errors import InvalidArgument, NotFound, TooLarge, UnsupportedFormat
from chatkeep.core.knowledge import documents, lookup, parsed
from chatkeep.core.knowledge.types import NewDocument
from chatkeep.core.models import NAME_MAX
from chatkeep.fetching import FetchPolicy, fetch
from chatkeep.runtime import unit_of_work
from chatkeep.settings import Settings

router = APIRouter(route_class=AidocRoute)

URL_MAX = 2048
# A name, a dot, an extension: Alibaba requires the extension ("fileName ... with extension").
_FILE_NAME = re.compile(r".*[^.\s]\.[A-Za-z0-9]{1,16}")
_BOOLEANS = {"true": True, "false": False}  # the SDK sends str(bool): "True" / "False"
PROCESSING = ("queued", "parsing")

TaskIdParam = Annotated[str, Query(alias="taskId", max_length=TASK_ID_MAX)]


@router.post(
    "/api/v2/aidoc/document/submitDocParsingTask",
    name="SubmitDocParsingTask",
    summary="Fetch a file from a URL into a folder and parse it",
)
async def submit_doc_parsing_task(
    request: Request,
    uow: DbUnit,
    principal: AidocPrincipal,
    rid: RequestId,
    file_name: Annotated[str, Query(alias="fileName", max_length=NAME_MAX)],
    file_url: Annotated[str, Query(alias="fileUrl", max_length=URL_MAX)],
    folder_id: Annotated[str | None, Query(alias="folderId", max_length=FOLDER_ID_MAX)] = None,
    need_analyze_img: Annotated[str | None, Query(alias="needAnalyzeImg", max_length=5)] = None,
) -> Envelope[TaskCreated]:
    check_file_name(file_name)
    parse_bool("needAnalyzeImg", need_analyze_img)  # accepted; images are not analysed
    if not file_url.strip():
        raise invalid_parameter("fileUrl", "must not be empty.")
    settings = app_state(request).settings
    domain_id = await lookup.upload_domain(uow, principal, parse_folder_id(folder_id))
    await uow.db.commit()  # nothing is held open while fetching or storing below
    with upload_errors():
        got = await fetch(file_url, fetch_policy(settings))
        new = NewDocument(file_name, got.data, got.content_type, source_url=file_url)
        documents.check_upload(new, settings.documents_max_bytes)
        async with unit_of_work(app_state(request), write=True) as writes:
            added = await documents.add_document(
                writes, principal, domain_id, new, settings.documents_max_bytes
            )
    return Envelope(request_id=rid, data=TaskCreated(task_id=str(added.document.id)))


@router.post(
    "/api/v2/aidoc/document/getDocParsingResult",
    name="GetDocParsingResult",
    summary="A parsed document as Markdown or JSON",
    description="409 TaskProcessing while the document is queued or parsing; 422 TaskFailed "
    "(with the reason) when parsing failed.",
)
@reads_only(unless=records_a_nonce)
async def get_doc_parsing_result(
    body: ParsingResultRequest, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Envelope[ParsingResult]:
    task_id = parse_task_id(body.task_id)
    with task_not_found():
        found = await parsed.parsed_document(uow, principal, task_id)
    status, error = found.document.status, found.document.error
    if status in PROCESSING:
        raise AidocError(
            "TaskProcessing", f"The document is still being parsed (status {status}); "
            "ask again shortly.", 409,
        )  # fmt: skip
    if status == "failed":
        raise AidocError("TaskFailed", f"Parsing the document failed: {error}", 422)
    content = markdown(found) if body.return_format == "markdown" else json_content(found)
    return Envelope(request_id=rid, data=ParsingResult(content=content))


@router.get(
    "/api/v1/aidoc/document/detail", name="DetailDocument", summary="A document and its status"
)
@reads_only(unless=records_a_nonce)
async def detail_document(
    task_id: TaskIdParam, request: Request, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Envelope[DocumentDetailItem]:
    with task_not_found():
        found = await lookup.document_in_domain(uow, principal, parse_task_id(task_id))
    url = document_url(request, principal.tenant_id, found.document.id)
    return Envelope(
        request_id=rid, data=DocumentDetailItem.of(found.document, found.domain_name, url)
    )


@router.delete(
    "/api/v1/aidoc/document/delete",
    name="DeleteDocument",
    summary="Delete a document: gone from retrieval and answers at once",
)
async def delete_document(
    task_id: TaskIdParam, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Envelope[bool]:
    with task_not_found():
        await documents.delete_document(uow, principal, parse_task_id(task_id))
    return Envelope(request_id=rid, data=True)


DEPRECATED = (
    "{action} is no longer maintained by Alibaba and is not served by chatkeep: parse "
    "documents with SubmitDocParsingTask and GetDocParsingResult."
)


@router.post(
    "/api/v1/aidoc/document/submitDocumentAnalyzeJob",
    name="SubmitDocumentAnalyzeJob",
    summary="Deprecated by Alibaba: always 400 InvalidAction.Deprecated",
)
async def submit_document_analyze_job(principal: AidocPrincipal) -> None:
    raise AidocError(
        "InvalidAction.Deprecated", DEPRECATED.format(action="SubmitDocumentAnalyzeJob")
    )


@router.post(
    "/api/v1/aidoc/document/getDocumentAnalyzeResult",
    name="GetDocumentAnalyzeResult",
    summary="Deprecated by Alibaba: always 400 InvalidAction.Deprecated",
)
async def get_document_analyze_result(
    principal: AidocPrincipal, body: AnalyzeResultRequest | None = None
) -> None:
    raise AidocError(
        "InvalidAction.Deprecated", DEPRECATED.format(action="GetDocumentAnalyzeResult")
    )


# --- parameters -----------------------------------------------------------------------


def check_file_name(name: str) -> None:
    if not _FILE_NAME.fullmatch(name):
        raise invalid_parameter("fileName", 'give the file name with its extension, e.g. "a.pdf".')


def parse_bool(field: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    value = _BOOLEANS.get(raw.lower())
    if value is None:
        raise invalid_parameter(field, "must be True or False.")
    return value


def parse_folder_id(raw: str | None) -> uuid.UUID | None:
    """Empty or absent: the tenant's default folder (see docs/aidoc.md)."""
    if raw is None or not raw.strip():
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise invalid_parameter("folderId", "not a folder ID.") from None


def parse_task_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise invalid_parameter(
            "taskId", "not a task ID (SubmitDocParsingTask's taskId)."
        ) from None


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The native URL upload's SSRF guard, unchanged (chatkeep/fetching.py)."""
    return FetchPolicy(
        max_bytes=settings.documents_max_bytes, timeout_seconds=settings.fetch_timeout_seconds,
        max_redirects=settings.fetch_max_redirects, allow_private=settings.fetch_allow_private,
    )  # fmt: skip


@contextmanager
def task_not_found() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        if exc.resource != "document":
            raise
        raise AidocError("InvalidTaskId.NotFound", "The task does not exist.", 404) from None


@contextmanager
def upload_errors() -> Iterator[None]:
    """The fetch's and the upload checks' refusals, named by the SDK's parameters."""
    try:
        yield
    except InvalidArgument as exc:
        if exc.field == "url":
            raise invalid_parameter("fileUrl", f"{exc.detail}.") from None
        if exc.field == "file":
            raise invalid_parameter("fileUrl", "the file at fileUrl is empty.") from None
        if exc.field == "name":
            raise invalid_parameter("fileName", f"{exc.detail}.") from None
        raise
    except TooLarge as exc:
        raise AidocError("InvalidFile.TooLarge", exc.message, 413) from None
    except UnsupportedFormat as exc:
        raise AidocError("InvalidFile.UnsupportedFormat", exc.message, 415) from None
