# Chinese text with its own full-width punctuation is what these tests are about.
# ruff: noqa: RUF001
"""The official SDK's document calls, Retrieve and SendDocumentAskQuestion against the real
server process (one per database), as an SDK user runs them.

The server runs no ingestion worker, so a submitted document stays ``queued`` until the
test ingests it (``Deployment.ingest``): the processing state is seen for certain, never
by racing a worker. Files are fetched from a local HTTP server (private addresses are
allowed in this deployment); answers come from a scripted OpenAI-compatible provider.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from alibabacloud_energyexpertexternal20220923 import models
from alibabacloud_energyexpertexternal20220923.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils_models import Config

from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from chatkeep.workers import ingest_pending
from tests.answers_support import Script, scripted_provider
from tests.api.aidoc.file_server import FileServer, file_server
from tests.api.aidoc.live_server import LiveServer, fresh_database, live_server
from tests.knowledge.files import encrypted_pdf, pdf

ASK_MAX_WAIT = 8  # the server's wait for a finished answer; scripted answers take ms
MAX_BYTES = 64 * 1024  # the deployment's document size limit
GUIDE = (
    "# 灯塔指南\n\n## 开放时间\n\n灯塔每天早上六点开门，晚上九点关门。\n\n"
    "## Tickets\n\nAdults pay five euros."
)
MINUTE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")


@dataclass(frozen=True)
class Deployment:
    server: LiveServer
    files: FileServer
    script: Script
    database_url: str
    alice: str  # a user key with every scope (tenant A)
    reader: str  # a service key with documents:read only (tenant A)
    bob: str  # a user key of tenant B
    alice_pair: tuple[str, str]  # alice's access-key pair (ACS3 signatures)

    def ingest(self) -> int:
        """Parse every queued document here and now, as a worker would."""

        async def run() -> int:
            settings = Settings(database_url=self.database_url, secret_key="ingest-only")
            runtime = Runtime.build(settings)
            try:
                return await ingest_pending(runtime)
            finally:
                await runtime.engine.dispose()

        return asyncio.run(run())


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp(f"aidoc-docs-{request.param}")
    script = Script(tokens=["灯塔", "六点", "开门 [1]。"])
    with (
        file_server() as files,
        scripted_provider(script) as provider,
        fresh_database(request.param, workdir) as url,
        live_server(url, workdir, wait=False, settings={
            "CHATKEEP_INGEST_WORKERS": "0",
            "CHATKEEP_FETCH_ALLOW_PRIVATE": "true",
            "CHATKEEP_LLM_BASE_URL": provider,
            "CHATKEEP_LLM_FIRST_TOKEN_TIMEOUT_SECONDS": "30",
            "CHATKEEP_AIDOC_ASK_MAX_WAIT_SECONDS": str(ASK_MAX_WAIT),
            "CHATKEEP_DOCUMENTS_MAX_BYTES": str(MAX_BYTES),
        }) as server,
    ):  # fmt: skip
        server.cli_all(("tenant", "create", "docs-a"), ("tenant", "create", "docs-b"))
        alice, reader, bob, pair = server.cli_all(
            ("key", "create", "--tenant", "docs-a", "--user", "alice"),
            ("key", "create", "--tenant", "docs-a", "--user", "indexer", "--service",
             "--scope", "documents:read"),
            ("key", "create", "--tenant", "docs-b", "--user", "bob"),
            ("access-key", "create", "--tenant", "docs-a", "--user", "alice"),
        )  # fmt: skip
        server.wait_until_ready()
        yield Deployment(
            server, files, script, url, alice["key"], reader["key"], bob["key"],
            (pair["accessKeyId"], pair["accessKeySecret"]),
        )  # fmt: skip


def sdk(server: LiveServer, bearer_token: str) -> Client:
    return Client(Config(
        bearer_token=bearer_token, endpoint=server.endpoint, protocol="http",
        read_timeout=30_000, connect_timeout=5_000,
    ))  # fmt: skip


def expect_error(call: Callable[[], Any], status: int, code: str) -> ClientException:
    with pytest.raises(ClientException) as raised:
        call()
    assert (raised.value.status_code, raised.value.code) == (status, code), raised.value.message
    assert raised.value.request_id and raised.value.request_id != "None"
    return raised.value


def submit(client: Client, url: str, name: str, folder_id: str | None = None) -> str:
    request = models.SubmitDocParsingTaskRequest(
        file_name=name, file_url=url, folder_id=folder_id, need_analyze_img=True
    )
    response = client.submit_doc_parsing_task(request)
    assert response.status_code == 200
    return str(response.body.data.task_id)


def parsing_result(client: Client, task_id: str, fmt: str | None = None) -> str:
    request = models.GetDocParsingResultRequest(task_id=task_id, return_format=fmt)
    return str(client.get_doc_parsing_result(request).body.data.content)


def detail(client: Client, task_id: str) -> Any:
    return client.detail_document(models.DetailDocumentRequest(task_id=task_id)).body.data


def retrieve(client: Client, query: str, **fields: Any) -> list[Any]:
    body = client.retrieve(models.RetrieveRequest(query=query, **fields)).body
    assert body.request_id and body.data.job_id == body.request_id
    return list(body.data.results or [])


def folder_named(client: Client, name: str) -> str:
    found = [f for f in client.get_chat_folder_list().body.data if f.folder_name == name]
    if found:
        return str(found[0].folder_id)
    return str(client.add_folder(models.AddFolderRequest(folder_name=name)).body.data.folder_id)


def native_documents(deployment: Deployment, key: str, folder_id: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{deployment.server.base_url}/v1/domains/{folder_id}/documents",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


# --- documents ----------------------------------------------------------------------------


def test_a_url_document_goes_from_processing_to_parsed_to_deleted(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    url = deployment.files.add("/guide.md", "text/markdown", GUIDE.encode())
    task_id = submit(client, url, "灯塔指南.md")  # no folderId: the default folder

    queued = detail(client, task_id)
    assert (queued.job_status, queued.job_id, queued.folder_name) == ("queued", task_id, "Default")
    assert isinstance(queued.id, int) and queued.doc_name == "灯塔指南.md"
    assert MINUTE_TIME.match(queued.create_time) and MINUTE_TIME.match(queued.update_time)
    processing = expect_error(lambda: parsing_result(client, task_id), 409, "TaskProcessing")
    assert "queued" in processing.message

    assert deployment.ingest() == 1
    ready = detail(client, task_id)
    assert ready.job_status == "ready" and ready.id == queued.id
    assert ready.doc_hash and len(ready.doc_hash) == 64
    opened = httpx.get(ready.doc_url)  # the signed link needs no credentials
    assert opened.status_code == 200 and opened.content == GUIDE.encode()

    text = parsing_result(client, task_id)
    assert text.splitlines()[0] == "# 灯塔指南"
    assert "## 开放时间" in text and "灯塔每天早上六点开门,晚上九点关门。" in text  # NFKC
    as_json = orjson.loads(parsing_result(client, task_id, "json"))
    assert as_json["doc_info"]["doc_type"] == "md"
    elements = as_json["doc_data"]
    assert [e["type"] for e in elements] == ["title", "title", "text", "title", "text"]
    assert elements[-1]["text"] == "Adults pay five euros."

    found = retrieve(client, "灯塔几点开门")
    assert found and found[0].doc_id == str(ready.id) and found[0].doc_name == "灯塔指南.md"
    assert "六点" in found[0].chunk_content and found[0].score > 0
    assert httpx.get(found[0].doc_url).content == GUIDE.encode()

    deleted = client.delete_document(models.DeleteDocumentRequest(task_id=task_id))
    assert deleted.body.data is True
    expect_error(lambda: detail(client, task_id), 404, "InvalidTaskId.NotFound")
    expect_error(lambda: parsing_result(client, task_id), 404, "InvalidTaskId.NotFound")
    assert retrieve(client, "灯塔几点开门") == []


def test_a_pdf_keeps_its_pages_and_a_failed_parse_says_why(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    folder = folder_named(client, "Manuals")
    two_pages = deployment.files.add(
        "/manual.pdf", "application/pdf", pdf("Turbine blades spin.", "Gearbox oil lasts a year.")
    )
    locked = deployment.files.add("/locked.pdf", "application/pdf", encrypted_pdf())
    good, bad = (
        submit(client, two_pages, "manual.pdf", folder),
        submit(client, locked, "x.pdf", folder),
    )
    deployment.ingest()

    failed = expect_error(lambda: parsing_result(client, bad), 422, "TaskFailed")
    assert "encrypted" in failed.message
    assert detail(client, bad).job_status == "failed"

    as_json = orjson.loads(parsing_result(client, good, "json"))
    assert as_json["doc_info"]["pages"] == 2
    assert [(e["page_num"], e["text"]) for e in as_json["doc_data"]] == [
        ([1], "Turbine blades spin."), ([2], "Gearbox oil lasts a year."),
    ]  # fmt: skip
    item = detail(client, good)
    assert (item.folder_id, item.folder_name) == (folder, "Manuals")

    # Retrieve in the folder, by document id, and both: each narrows the scope.
    assert [r.doc_id for r in retrieve(client, "gearbox oil", folder_ids=[folder])] == [
        str(item.id)
    ]
    assert retrieve(client, "gearbox", document_ids=[item.id], top_k=1)[0].doc_id == str(item.id)
    other = folder_named(client, "Elsewhere")
    assert retrieve(client, "gearbox", folder_ids=[other], document_ids=[item.id]) == []
    reranked = retrieve(
        client, "turbine", folder_ids=[folder, folder], pre_retrieve_top_k=50,
        use_reranker=True, reranker_threshold=0.5,
    )  # fmt: skip
    assert len(reranked) == 1 and reranked[0].rerank_score is None  # no reranker: ignored


def test_bad_submissions_are_refused_and_store_nothing(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    folder = folder_named(client, "Refusals")
    ok = deployment.files.add("/ok.txt", "text/plain", b"fine text")
    old_word = deployment.files.add("/old.doc", "application/msword", b"\xd0\xcf\x11\xe0\x00\x00")

    def refused(status: int, code: str, **fields: Any) -> None:
        values = {"file_name": "a.txt", "file_url": ok, "folder_id": folder, **fields}
        request = models.SubmitDocParsingTaskRequest(**values)
        expect_error(lambda: client.submit_doc_parsing_task(request), status, code)

    refused(400, "MissingParameter", file_name=None)
    refused(400, "MissingParameter", file_url=None)
    refused(400, "InvalidParameter.FileName", file_name="no-extension")
    refused(400, "InvalidParameter.NeedAnalyzeImg", need_analyze_img="maybe")
    refused(400, "InvalidParameter.FolderId", folder_id="not-a-folder")
    refused(404, "InvalidFolderId.NotFound", folder_id=str(uuid.uuid4()))
    refused(400, "InvalidParameter.FileUrl", file_url=f"{deployment.files.url}/missing")
    refused(400, "InvalidParameter.FileUrl", file_url="file:///etc/passwd")
    refused(400, "InvalidParameter.FileUrl", file_url="http://169.254.169.254/latest/meta-data/")
    refused(415, "InvalidFile.UnsupportedFormat", file_name="old.doc", file_url=old_word)
    big = deployment.files.add("/big.txt", "text/plain", b"x" * (MAX_BYTES + 1))
    refused(413, "InvalidFile.TooLarge", file_url=big)
    empty = deployment.files.add("/empty.txt", "text/plain", b"")
    refused(400, "InvalidParameter.FileUrl", file_url=empty)
    assert native_documents(deployment, deployment.alice, folder) == []

    no_task = models.GetDocParsingResultRequest()
    expect_error(lambda: client.get_doc_parsing_result(no_task), 400, "MissingParameter")
    no_query = models.DetailDocumentRequest()
    expect_error(lambda: client.detail_document(no_query), 400, "MissingParameter")
    bad_format = models.GetDocParsingResultRequest(task_id=str(uuid.uuid4()), return_format="pdf")
    expect_error(
        lambda: client.get_doc_parsing_result(bad_format), 400, "InvalidParameter.ReturnFormat"
    )
    bad_task = models.DeleteDocumentRequest(task_id="42")
    expect_error(lambda: client.delete_document(bad_task), 400, "InvalidParameter.TaskId")
    for fields, code in (
        ({}, "MissingParameter"), ({"query": "x", "top_k": 0}, "InvalidParameter.TopK"),
        ({"query": "x", "top_k": 51}, "InvalidParameter.TopK"),
        ({"query": "x", "folder_ids": ["nope"]}, "InvalidParameter.FolderIds"),
        ({"query": "x", "document_ids": ["7"]}, "InvalidParameter.DocumentIds"),
    ):  # fmt: skip
        request = models.RetrieveRequest(**fields)
        expect_error(lambda: client.retrieve(request), 400, code)  # noqa: B023
    unknown = models.RetrieveRequest(query="x", document_ids=[987654321])
    expect_error(lambda: client.retrieve(unknown), 404, "InvalidDocumentId.NotFound")


def test_one_tenant_never_reaches_another_tenants_documents(deployment: Deployment) -> None:
    alice, bob = sdk(deployment.server, deployment.alice), sdk(deployment.server, deployment.bob)
    folder = folder_named(alice, "Private")
    url = deployment.files.add("/private.txt", "text/plain", b"The vault code is walrus.")
    task_id = submit(alice, url, "private.txt", folder)
    deployment.ingest()
    number = detail(alice, task_id).id

    expect_error(lambda: detail(bob, task_id), 404, "InvalidTaskId.NotFound")
    expect_error(lambda: parsing_result(bob, task_id), 404, "InvalidTaskId.NotFound")
    gone = models.DeleteDocumentRequest(task_id=task_id)
    expect_error(lambda: bob.delete_document(gone), 404, "InvalidTaskId.NotFound")
    expect_error(
        lambda: retrieve(bob, "vault", document_ids=[number]), 404, "InvalidDocumentId.NotFound"
    )
    expect_error(
        lambda: retrieve(bob, "vault", folder_ids=[folder]), 404, "InvalidFolderId.NotFound"
    )
    expect_error(lambda: submit(bob, url, "mine.txt", folder), 404, "InvalidFolderId.NotFound")
    assert retrieve(bob, "vault walrus") == []
    ask = models.SendDocumentAskQuestionRequest(prompt="vault code?", folder_id=folder)
    expect_error(lambda: bob.send_document_ask_question(ask), 404, "InvalidFolderId.NotFound")
    theirs = alice.create_chat_session(models.CreateChatSessionRequest(folder_id=folder))
    into = models.SendDocumentAskQuestionRequest(
        prompt="vault code?", session_id=theirs.body.data.session_id
    )
    expect_error(lambda: bob.send_document_ask_question(into), 404, "InvalidSessionId.NotFound")
    assert [r.doc_id for r in retrieve(alice, "vault walrus")] == [str(number)]


def test_scopes_map_to_the_ram_actions(deployment: Deployment) -> None:
    alice, reader = (
        sdk(deployment.server, deployment.alice),
        sdk(deployment.server, deployment.reader),
    )
    url = deployment.files.add("/scoped.txt", "text/plain", b"Scoped reading about otters.")
    task_id = submit(alice, url, "scoped.txt")
    deployment.ingest()
    assert detail(reader, task_id).job_status == "ready"
    assert parsing_result(reader, task_id) == "Scoped reading about otters."
    assert retrieve(reader, "otters")[0].chunk_content == "Scoped reading about otters."

    for action, call in (
        ("SubmitDocParsingTask", lambda: submit(reader, url, "again.txt")),
        ("DeleteDocument",
         lambda: reader.delete_document(models.DeleteDocumentRequest(task_id=task_id))),
        ("SendDocumentAskQuestion", lambda: reader.send_document_ask_question(
            models.SendDocumentAskQuestionRequest(prompt="otters?"))),
    ):  # fmt: skip
        denied = expect_error(call, 403, "Forbidden.RAM")
        assert denied.access_denied_detail["AuthAction"] == f"energy:{action}"
    assert detail(alice, task_id).job_status == "ready"  # the refused delete changed nothing


def test_an_access_key_signs_the_query_only_and_get_calls(deployment: Deployment) -> None:
    key_id, secret = deployment.alice_pair
    signed = Client(Config(
        access_key_id=key_id, access_key_secret=secret, endpoint=deployment.server.endpoint,
        protocol="http", read_timeout=30_000,
    ))  # fmt: skip
    url = deployment.files.add("/signed.txt", "text/plain", b"Signed upload about herons.")
    task_id = submit(signed, url, "signed.txt")  # a POST with no body
    assert detail(signed, task_id).job_status == "queued"  # a GET: its nonce is recorded
    assert detail(signed, task_id).job_id == task_id  # ... and a fresh one works again
    deleted = signed.delete_document(models.DeleteDocumentRequest(task_id=task_id))
    assert deleted.body.data is True


def test_the_deprecated_analyze_actions_answer_a_clear_error(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    submit_job = models.SubmitDocumentAnalyzeJobRequest(
        file_name="a.pdf", file_url=f"{deployment.files.url}/ok.txt", template_id="t"
    )
    error = expect_error(
        lambda: client.submit_document_analyze_job(submit_job), 400, "InvalidAction.Deprecated"
    )
    assert "SubmitDocParsingTask" in error.message
    result = models.GetDocumentAnalyzeResultRequest(job_id="j")
    expect_error(
        lambda: client.get_document_analyze_result(result), 400, "InvalidAction.Deprecated"
    )


# --- SendDocumentAskQuestion ------------------------------------------------------------------


def test_a_question_is_answered_from_the_folder_and_kept_in_a_session(
    deployment: Deployment,
) -> None:
    client = sdk(deployment.server, deployment.alice)
    folder = folder_named(client, "Lighthouse")
    url = deployment.files.add("/hours.md", "text/markdown", GUIDE.encode())
    number = detail(client, submit(client, url, "hours.md", folder)).id
    deployment.ingest()

    ask = models.SendDocumentAskQuestionRequest(prompt="灯塔几点开门？", folder_id=folder)
    answered = client.send_document_ask_question(ask).body.data
    assert answered.answer == "灯塔六点开门 [1]。"
    assert len(answered.document) == 1
    assert httpx.get(answered.document[0]).content == GUIDE.encode()
    assert retrieve(client, "灯塔", folder_ids=[folder])[0].doc_id == str(number)

    sessions = client.get_chat_session_list(models.GetChatSessionListRequest()).body.data
    mine = [s for s in sessions.session_list if s.name == "灯塔几点开门？"]
    assert len(mine) == 1 and mine[0].folder_id == folder  # no sessionId: a session of its own
    session_id = mine[0].session_id

    again = models.SendDocumentAskQuestionRequest(
        prompt="灯塔晚上几点关门？", session_id=session_id
    )
    client.send_document_ask_question(again)
    chats = client.get_chat_list(models.GetChatListRequest(session_id=session_id)).body.data
    assert [(c.question, c.answer) for c in chats.chat_list] == [
        ("灯塔几点开门？", "灯塔六点开门 [1]。"), ("灯塔晚上几点关门？", "灯塔六点开门 [1]。"),
    ]  # fmt: skip

    nothing = models.SendDocumentAskQuestionRequest(prompt="zzz qqq", folder_id=folder)
    empty = client.send_document_ask_question(nothing).body.data
    assert empty.document == [] and "could not find" in empty.answer  # the model is not asked


def test_bad_questions_are_refused_before_anything_is_stored(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    folder = folder_named(client, "Questions")
    own = client.create_chat_session(models.CreateChatSessionRequest(folder_id=folder, name="own"))
    session_id = own.body.data.session_id
    before = client.get_chat_session_list(models.GetChatSessionListRequest()).body.data.total

    for fields, status, code in (
        ({}, 400, "MissingParameter"),
        ({"prompt": "   "}, 400, "InvalidParameter.Prompt"),
        ({"prompt": "x" * 40_000}, 400, "InvalidParameter.Prompt"),
        ({"prompt": "hi", "session_id": "nope"}, 400, "InvalidParameter.SessionId"),
        ({"prompt": "hi", "session_id": str(uuid.uuid4())}, 404, "InvalidSessionId.NotFound"),
        ({"prompt": "hi", "folder_id": str(uuid.uuid4())}, 404, "InvalidFolderId.NotFound"),
        ({"prompt": "hi", "session_id": session_id, "folder_id": folder_named(client, "Other")},
         400, "InvalidParameter.FolderId"),
    ):  # fmt: skip
        request = models.SendDocumentAskQuestionRequest(**fields)
        expect_error(lambda: client.send_document_ask_question(request), status, code)  # noqa: B023
    after = client.get_chat_session_list(models.GetChatSessionListRequest()).body.data.total
    assert after == before
    chats = client.get_chat_list(models.GetChatListRequest(session_id=session_id)).body.data
    assert chats.total == 0


def test_a_failed_answer_is_a_server_error_with_its_reason(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    folder = folder_named(client, "Failing")
    url = deployment.files.add("/fail.txt", "text/plain", b"Failing answers about puffins.")
    submit(client, url, "fail.txt", folder)
    deployment.ingest()
    deployment.script.mode = "http500"
    try:
        ask = models.SendDocumentAskQuestionRequest(prompt="puffins?", folder_id=folder)
        with pytest.raises(ServerException) as raised:
            client.send_document_ask_question(ask)
    finally:
        deployment.script.mode = "ok"
    assert (raised.value.status_code, raised.value.code) == (502, "AnswerFailed")
    assert "failed" in raised.value.message


def test_an_answer_slower_than_the_wait_is_a_timeout_and_goes_on(deployment: Deployment) -> None:
    client = sdk(deployment.server, deployment.alice)
    folder = folder_named(client, "Slow")
    url = deployment.files.add("/slow.txt", "text/plain", b"Slow answers about lighthouses.")
    submit(client, url, "slow.txt", folder)
    deployment.ingest()
    script = deployment.script
    script.gate.clear()
    script.held.clear()
    script.hold_after = 1  # the first token, then silence until the gate opens
    try:
        ask = models.SendDocumentAskQuestionRequest(prompt="lighthouses?", folder_id=folder)
        with pytest.raises(ServerException) as raised:
            client.send_document_ask_question(ask)
        assert (raised.value.status_code, raised.value.code) == (504, "AnswerTimeout")
        assert "GetChatList" in raised.value.message
    finally:
        script.hold_after = None
        script.gate.set()
    sessions = client.get_chat_session_list(models.GetChatSessionListRequest(name="lighthouses?"))
    session_id = sessions.body.data.session_list[0].session_id
    request = models.GetChatListRequest(session_id=session_id)
    for _ in range(600):  # the answer finishes once released; wait on that, not on time
        pair = client.get_chat_list(request).body.data.chat_list[0]
        if pair.answer == "灯塔六点开门 [1]。":
            break
        time.sleep(0.05)
    assert pair.answer == "灯塔六点开门 [1]。"
