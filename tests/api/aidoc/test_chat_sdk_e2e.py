"""Chat and ChatStream through the official SDK, unchanged, against the real server process.

``chatkeep serve`` runs on each database with the scripted OpenAI-compatible provider as
its LLM, real documents (uploaded through the native API and ingested by the server) and
real retrieval. Every SDK reader is used: ``chat``, ``chat_stream_with_sse`` and
``chat_stream_with_sse_async``, in bearer mode and AK/SK mode; every answer is then read
back through ``GetChatList``.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from alibabacloud_energyexpertexternal20220923 import models
from alibabacloud_energyexpertexternal20220923.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.exceptions import UnretryableException
from darabonba.runtime import RuntimeOptions

from tests.answers_support import Script, scripted_provider
from tests.api.aidoc.live_server import LiveServer, fresh_database, live_server
from tests.knowledge import files

INGEST_SECONDS = 60
GRID_PDF = files.pdf(
    "The grid frequency in Europe is fifty hertz.",
    "Transformers step the grid voltage down for homes.",
)
PANELS_MD = b"# Panels\n\nSolar panels convert about twenty percent of sunlight into power.\n"
PANELS_TWO_MD = b"# Inverters\n\nInverters turn the solar panels' direct current into grid power.\n"
PARK_TXT = "光伏电站位于园区北部。园区的光伏电站每年发电一百万千瓦时。".encode()
ELSEWHERE_MD = b"# Elsewhere\n\nThe grid frequency elsewhere is sixty hertz.\n"


@dataclass(frozen=True)
class Doc:
    id: str
    number: int
    data: bytes


@dataclass(frozen=True)
class Deployment:
    server: LiveServer
    script: Script
    alice: str  # a user key with every scope
    reader: str  # alice's key that may only read messages and sessions
    mallory: str  # a user key in another tenant
    alice_ak: tuple[str, str]  # alice's access-key pair
    solar: str  # folder: Energy/Solar, where alice's session lives
    other: str  # another folder of alice's tenant
    grid: Doc  # in Energy/Solar
    panels: Doc  # in Energy/Solar/Roof (a subfolder)
    panels_two: Doc  # in Energy/Solar
    park: Doc  # in Energy/Solar, Chinese text
    elsewhere: Doc  # in the other folder
    foreign: Doc  # mallory's


@pytest.fixture(scope="module")
def script() -> Script:
    return Script()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, script: Script
) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp(f"chat-{request.param}")
    with (
        scripted_provider(script) as provider,
        fresh_database(request.param, workdir) as url,
        live_server(url, workdir, wait=False, settings=_settings(provider)) as server,
    ):
        tenant, other_tenant = (t["name"] for t in server.cli_all(
            ("tenant", "create", "chat"), ("tenant", "create", "other")
        ))  # fmt: skip
        alice, reader, mallory, pair = server.cli_all(
            ("key", "create", "--tenant", tenant, "--user", "alice"),
            ("key", "create", "--tenant", tenant, "--user", "alice",
             "--scope", "messages:read", "--scope", "sessions:read"),
            ("key", "create", "--tenant", other_tenant, "--user", "mallory"),
            ("access-key", "create", "--tenant", tenant, "--user", "alice"),
        )  # fmt: skip
        server.wait_until_ready()
        yield _populate(server, script, alice["key"], reader["key"], mallory["key"], pair)


def _settings(provider: str) -> dict[str, str]:
    return {
        "CHATKEEP_LLM_BASE_URL": provider,
        "CHATKEEP_INGEST_POLL_SECONDS": "0.2",
        "CHATKEEP_ACCESS_LOG": "false",
    }


def _populate(
    server: LiveServer, script: Script, alice: str, reader: str, mallory: str, pair: Any
) -> Deployment:
    client = bearer_client(server, alice)
    energy = client.add_folder(models.AddFolderRequest(folder_name="Energy")).body.data
    solar = client.add_folder(
        models.AddFolderRequest(folder_name="Solar", parent_folder_id=energy.folder_id)
    ).body.data
    roof = client.add_folder(
        models.AddFolderRequest(folder_name="Roof", parent_folder_id=solar.folder_id)
    ).body.data
    other = client.add_folder(models.AddFolderRequest(folder_name="Other")).body.data
    mallory_folder = (
        bearer_client(server, mallory)
        .add_folder(models.AddFolderRequest(folder_name="Mine"))
        .body.data
    )
    docs = [
        upload(server, alice, solar.folder_id, "grid.pdf", GRID_PDF),
        upload(server, alice, roof.folder_id, "panels.md", PANELS_MD),
        upload(server, alice, solar.folder_id, "inverters.md", PANELS_TWO_MD),
        upload(server, alice, solar.folder_id, "园区.txt", PARK_TXT),
        upload(server, alice, other.folder_id, "elsewhere.md", ELSEWHERE_MD),
        upload(server, mallory, mallory_folder.folder_id, "elsewhere.md", ELSEWHERE_MD),
    ]
    keys = [alice] * 5 + [mallory]
    for key, doc in zip(keys, docs, strict=True):
        wait_until_ready(server, key, doc.id)
    grid, panels, panels_two, park, elsewhere, foreign = docs
    return Deployment(
        server, script, alice, reader, mallory, (pair["accessKeyId"], pair["accessKeySecret"]),
        solar.folder_id, other.folder_id, grid, panels, panels_two, park, elsewhere, foreign,
    )  # fmt: skip


def upload(server: LiveServer, key: str, folder_id: str, name: str, data: bytes) -> Doc:
    response = httpx.post(
        f"{server.base_url}/v1/domains/{folder_id}/documents",
        files={"file": (name, data)}, headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    return Doc(response.json()["id"], response.json()["number"], data)


def wait_until_ready(server: LiveServer, key: str, document_id: str) -> None:
    deadline = time.monotonic() + INGEST_SECONDS
    while True:
        got = httpx.get(
            f"{server.base_url}/v1/documents/{document_id}",
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        assert got["status"] != "failed", got
        if got["status"] == "ready":
            return
        assert time.monotonic() < deadline, f"not ingested in {INGEST_SECONDS} s: {got}"
        time.sleep(0.2)


@pytest.fixture(autouse=True)
def fresh_script(request: pytest.FixtureRequest) -> None:
    """Each test scripts the model itself; the default answers in four tokens."""
    if "deployment" not in request.fixturenames:
        return
    script: Script = request.getfixturevalue("script")
    fresh = Script()
    script.tokens, script.mode, script.delay = fresh.tokens, fresh.mode, fresh.delay
    script.hold_after, script.gate = None, threading.Event()


def bearer_client(server: LiveServer, key: str) -> Client:
    return Client(Config(
        bearer_token=key, endpoint=server.endpoint, protocol="http",
        read_timeout=10_000, connect_timeout=5_000,  # the SDK's defaults, said out loud
    ))  # fmt: skip


def ak_client(server: LiveServer, pair: tuple[str, str]) -> Client:
    return Client(Config(
        access_key_id=pair[0], access_key_secret=pair[1], endpoint=server.endpoint,
        protocol="http", read_timeout=10_000, connect_timeout=5_000,
    ))  # fmt: skip


def new_session(client: Client, folder_id: str | None, name: str = "chat") -> str:
    """In ``folder_id``; None: the default folder."""
    request = models.CreateChatSessionRequest(folder_id=folder_id, name=name)
    session_id: str = client.create_chat_session(request).body.data.session_id
    return session_id


def ask(client: Client, session_id: str, question: str, **extra: Any) -> Any:
    request = models.ChatRequest(session_id=session_id, question=question, **extra)
    return client.chat(request)


def read_stream(client: Client, request: models.ChatStreamRequest) -> list[Any]:
    return list(client.chat_stream_with_sse(request, {}, RuntimeOptions()))


def stream_sync(client: Client, session_id: str, question: str, **extra: Any) -> list[Any]:
    request = models.ChatStreamRequest(session_id=session_id, question=question, **extra)
    return list(client.chat_stream_with_sse(request, {}, RuntimeOptions()))


def stream_async(client: Client, session_id: str, question: str, **extra: Any) -> list[Any]:
    request = models.ChatStreamRequest(session_id=session_id, question=question, **extra)

    async def read() -> list[Any]:
        return [e async for e in client.chat_stream_with_sse_async(request, {}, RuntimeOptions())]

    return asyncio.run(read())


def streamed_text(events: list[Any]) -> str:
    return "".join(e.body.data.answer for e in events)


def chat_list(client: Client, session_id: str) -> Any:
    request = models.GetChatListRequest(session_id=session_id, page_size=100)
    return client.get_chat_list(request).body.data


def opened(url: str) -> bytes:
    response = httpx.get(url)  # no credentials: the link is the authority
    assert response.status_code == 200, response.text
    return response.content


# --- Chat -------------------------------------------------------------------------------


def test_chat_answers_with_a_ref_doc_list_whose_doc_url_opens_the_document(
    deployment: Deployment,
) -> None:
    client = bearer_client(deployment.server, deployment.alice)
    session_id = new_session(client, deployment.solar)
    deployment.script.tokens = ["The grid ", "runs at ", "fifty hertz [1]."]

    response = ask(client, session_id, "What is the grid frequency in Europe?")

    assert response.status_code == 200 and response.body.request_id
    item = response.body.data
    assert (item.question, item.answer) == (
        "What is the grid frequency in Europe?", "The grid runs at fifty hertz [1].",
    )  # fmt: skip
    assert (item.folder_id, item.folder_name) == (deployment.solar, "Solar")
    grid = next(r for r in item.ref_doc_list if r.doc_name == "grid.pdf")
    assert grid.source_type == "doc" and 1 in [p.num for p in grid.page_num]
    assert all(p.pos == [] for p in grid.page_num)
    assert opened(grid.doc_url) == GRID_PDF == opened(grid.origin_doc_url)

    [pair] = chat_list(client, session_id).chat_list
    assert (pair.question, pair.answer, pair.create_time) == (
        item.question, item.answer, item.create_time,
    )  # fmt: skip
    assert (pair.folder_id, pair.folder_name) == (item.folder_id, item.folder_name)
    listed = [(r.doc_name, [p.num for p in r.page_num]) for r in pair.ref_doc_list]
    assert listed == [(r.doc_name, [p.num for p in r.page_num]) for r in item.ref_doc_list]
    assert opened(pair.ref_doc_list[0].doc_url) == opened(item.ref_doc_list[0].doc_url)

    # The same stored answer, as the native API reads it.
    native = httpx.get(
        f"{deployment.server.base_url}/v1/sessions/{session_id}/messages",
        headers={"Authorization": f"Bearer {deployment.alice}"},
    ).json()["data"]
    assert [(m["role"], m["content"]) for m in native] == [
        ("user", item.question), ("assistant", item.answer),
    ]  # fmt: skip
    answer = native[1]["answer"]
    assert answer["status"] == "complete"
    assert {r["document_name"] for r in answer["references"]} == {
        r.doc_name for r in item.ref_doc_list
    }


def test_chat_in_ak_sk_mode(deployment: Deployment) -> None:
    client = ak_client(deployment.server, deployment.alice_ak)
    session_id = new_session(client, deployment.solar)
    item = ask(client, session_id, "What is the grid frequency?").body.data
    assert item.answer == "Paris is the capital [1]."
    for read in (stream_sync, stream_async):
        events = read(client, session_id, "What steps the grid voltage down?")
        assert streamed_text(events) == "Paris is the capital [1]."
    assert len(chat_list(client, session_id).chat_list) == 3


def test_document_ids_restrict_retrieval_to_those_documents(deployment: Deployment) -> None:
    client = bearer_client(deployment.server, deployment.alice)
    session_id = new_session(client, deployment.solar)
    question = "What do solar panels do?"

    everything = ask(client, session_id, question).body.data.ref_doc_list
    assert {r.doc_name for r in everything} >= {"panels.md", "inverters.md"}

    only = ask(client, session_id, question, document_ids=[deployment.panels.number])
    assert [r.doc_name for r in only.body.data.ref_doc_list] == ["panels.md"]
    events = stream_sync(client, session_id, question, document_ids=[deployment.panels_two.number])
    assert [r.doc_name for r in events[0].body.data.ref_doc_list] == ["inverters.md"]


def test_a_failed_answer_is_an_error_status_for_chat_and_an_error_event_for_the_stream(
    deployment: Deployment,
) -> None:
    client = bearer_client(deployment.server, deployment.alice)
    session_id = new_session(client, deployment.solar)
    deployment.script.mode = "http500"

    with pytest.raises(ServerException) as raised:
        ask(client, session_id, "What is the grid frequency?")
    assert (raised.value.status_code, raised.value.code) == (502, "AnswerFailed")

    events = stream_sync(client, session_id, "What is the grid frequency?")
    assert events[-1].event == "error" and events[-1].body.request_id
    assert "[answer failed" in events[-1].body.data.answer


# --- ChatStream ------------------------------------------------------------------------


def test_both_stream_readers_get_a_long_answer_as_deltas_with_references_first(
    deployment: Deployment,
) -> None:
    client = bearer_client(deployment.server, deployment.alice)
    deployment.script.tokens = [f"word{n} " for n in range(400)] + ["[1]."]
    expected = "".join(deployment.script.tokens)

    for read in (stream_sync, stream_async):
        session_id = new_session(client, deployment.solar)
        events = read(client, session_id, "What is the grid frequency?")

        assert streamed_text(events) == expected
        assert len(events) > 2  # streamed in several shards, not one
        first, rest = events[0], events[1:]
        assert first.body.data.ref_doc_list and first.body.data.answer == ""
        assert not any(e.body.data.ref_doc_list for e in rest)  # the first shard only
        assert {e.event for e in events} == {"message"}
        assert all(e.body.request_id == first.body.request_id for e in events)
        ids = [int(e.id) for e in events]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        assert first.headers["content-type"].startswith("text/event-stream")
        assert first.body.data.folder_name == "Solar"

        [pair] = chat_list(client, session_id).chat_list
        assert (pair.answer, pair.create_time) == (expected, first.body.data.create_time)
        assert [r.doc_name for r in pair.ref_doc_list] == [
            r.doc_name for r in first.body.data.ref_doc_list
        ]


def test_a_chinese_question_and_answer_in_every_reader(deployment: Deployment) -> None:
    client = bearer_client(deployment.server, deployment.alice)
    deployment.script.tokens = ["园区的", "光伏电站", "每年发电", "一百万千瓦时。[1]"]
    question = "园区的光伏电站每年发电多少?"
    answer = "园区的光伏电站每年发电一百万千瓦时。[1]"

    session_id = new_session(client, deployment.solar, name="园区")
    item = ask(client, session_id, question).body.data
    assert (item.question, item.answer) == (question, answer)
    assert "园区.txt" in [r.doc_name for r in item.ref_doc_list]
    for read in (stream_sync, stream_async):
        events = read(client, session_id, question)
        assert streamed_text(events) == answer
        assert "园区.txt" in [r.doc_name for r in events[0].body.data.ref_doc_list]
    pairs = chat_list(client, session_id).chat_list
    assert [(p.question, p.answer) for p in pairs] == [(question, answer)] * 3


def test_a_model_silent_for_15_seconds_keeps_every_reader_alive(deployment: Deployment) -> None:
    """The SDK's read timeout is 10 s; keep-alives (at most 5 s apart) hold every reader."""
    client = bearer_client(deployment.server, deployment.alice)
    sessions = [new_session(client, deployment.solar) for _ in range(3)]
    deployment.script.hold_after = 0  # every request waits before its first token
    question = "What is the grid frequency?"
    release = threading.Timer(15, deployment.script.gate.set)

    with ThreadPoolExecutor(3) as pool:
        started = time.monotonic()
        release.start()
        chat = pool.submit(ask, client, sessions[0], question)
        sync = pool.submit(stream_sync, client, sessions[1], question)
        async_ = pool.submit(stream_async, client, sessions[2], question)
        item, sync_events, async_events = chat.result(), sync.result(), async_.result()
    assert time.monotonic() - started >= 15

    assert item.body.data.answer == "Paris is the capital [1]."
    assert streamed_text(sync_events) == streamed_text(async_events) == item.body.data.answer


# --- refused before any generation ------------------------------------------------------


def _chat_error(call: Any) -> tuple[int, str]:
    with pytest.raises(ClientException) as raised:
        call()
    assert raised.value.request_id and raised.value.request_id != "None"
    return raised.value.status_code, raised.value.code


def _stream_error(call: Any) -> tuple[int, str]:
    with pytest.raises(UnretryableException) as raised:
        call()
    return raised.value.data["statusCode"], raised.value.code


def test_bad_input_is_refused_in_both_calls_and_stores_nothing(deployment: Deployment) -> None:
    client = bearer_client(deployment.server, deployment.alice)
    session_id = new_session(client, deployment.solar)
    foreign_session = new_session(bearer_client(deployment.server, deployment.mallory), None)
    asked_before = len(deployment.script.requests)
    cases: list[tuple[dict[str, Any], tuple[int, str]]] = [
        ({"question": "Where?"}, (400, "MissingParameter")),
        ({"session_id": session_id}, (400, "MissingParameter")),
        ({"session_id": session_id, "question": "   "}, (400, "InvalidParameter.Question")),
        ({"session_id": session_id, "question": "x" * (32 * 1024 + 1)},
         (400, "InvalidParameter.Question")),
        ({"session_id": session_id, "question": "a\x00b"}, (400, "InvalidParameter.Question")),
        ({"session_id": "not-a-session", "question": "Where?"},
         (400, "InvalidParameter.SessionId")),
        ({"session_id": str(uuid.uuid4()), "question": "Where?"},
         (404, "InvalidSessionId.NotFound")),
        ({"session_id": foreign_session, "question": "Where?"},
         (404, "InvalidSessionId.NotFound")),
        ({"session_id": session_id, "question": "Where?", "document_ids": ["1"]},
         (400, "InvalidParameter.DocumentIds")),
        ({"session_id": session_id, "question": "Where?", "document_ids": [0]},
         (400, "InvalidParameter.DocumentIds")),
        ({"session_id": session_id, "question": "Where?", "document_ids": [2**63]},
         (400, "InvalidParameter.DocumentIds")),
        ({"session_id": session_id, "question": "Where?", "document_ids": list(range(1, 102))},
         (400, "InvalidParameter.DocumentIds")),
        ({"session_id": session_id, "question": "Where?", "document_ids": [2**62]},
         (404, "InvalidDocumentId.NotFound")),
        ({"session_id": session_id, "question": "Where?",
          "document_ids": [deployment.grid.number, deployment.elsewhere.number]},
         (404, "InvalidDocumentId.NotFound")),
        ({"session_id": session_id, "question": "Where?",
          "document_ids": [deployment.foreign.number]},
         (404, "InvalidDocumentId.NotFound")),
    ]  # fmt: skip
    for fields, expected in cases:
        chat = models.ChatRequest(**fields)
        stream = models.ChatStreamRequest(**fields)
        assert _chat_error(lambda r=chat: client.chat(r)) == expected, fields
        assert _stream_error(lambda r=stream: read_stream(client, r)) == expected, fields

    assert chat_list(client, session_id).total == 0
    assert len(deployment.script.requests) == asked_before  # the model was never asked


def test_another_tenants_session_and_documents_stay_hidden(deployment: Deployment) -> None:
    mallory = bearer_client(deployment.server, deployment.mallory)
    alice = bearer_client(deployment.server, deployment.alice)
    alices = new_session(alice, deployment.solar)
    assert _chat_error(lambda: ask(mallory, alices, "What is the grid frequency?")) == (
        404, "InvalidSessionId.NotFound",
    )  # fmt: skip
    own = new_session(mallory, None)
    refused = models.ChatRequest(session_id=own, question="grid?",
                                 document_ids=[deployment.grid.number])  # fmt: skip
    assert _chat_error(lambda: mallory.chat(refused)) == (404, "InvalidDocumentId.NotFound")
    assert chat_list(alice, alices).total == 0 and chat_list(mallory, own).total == 0


def test_a_credential_without_the_answering_scope_is_refused_by_ram_action(
    deployment: Deployment,
) -> None:
    client = bearer_client(deployment.server, deployment.reader)
    session_id = new_session(bearer_client(deployment.server, deployment.alice), deployment.solar)
    with pytest.raises(ClientException) as raised:
        ask(client, session_id, "What is the grid frequency?")
    assert (raised.value.status_code, raised.value.code) == (403, "Forbidden.RAM")
    assert raised.value.access_denied_detail["AuthAction"] == "energy:Chat"
    with pytest.raises(UnretryableException) as streamed:
        stream_sync(client, session_id, "What is the grid frequency?")
    assert streamed.value.code == "Forbidden.RAM"
    assert streamed.value.data["accessDeniedDetail"]["AuthAction"] == "energy:ChatStream"
    assert chat_list(client, session_id).total == 0
