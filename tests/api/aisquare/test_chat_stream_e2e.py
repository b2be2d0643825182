"""The chat stream against the real ``chatkeep serve`` process: a document uploaded and
parsed by the server itself, real retrieval, a scripted model; plain HTTP as any AISquare
client would send it, and the reference's signed link opened without credentials."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.answers_support import Script, scripted_provider
from tests.api.aidoc.live_server import fresh_database
from tests.faults.server import create_account, running_server, server_env

PARKS = b"# City parks\n\nThe Vondelpark is the largest city park in Amsterdam.\n"
READY_SECONDS = 60


def _frames(response: httpx.Response) -> list[dict[str, object]]:
    return [
        orjson.loads(line.removeprefix("data: "))
        for line in response.iter_lines()
        if line.startswith("data: ")
    ]


def _wait_until_parsed(client: httpx.Client, document_id: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        status = client.get(f"/v1/documents/{document_id}").json()["status"]
        if status == "ready":
            return
        assert status in ("queued", "parsing"), status
        time.sleep(0.1)
    raise AssertionError("the document was not parsed in time")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_question_streams_from_the_real_server_with_openable_references(
    kind: str, tmp_path: Path
) -> None:
    script = Script(tokens=["The Vondelpark ", "is the largest [1]."])
    with fresh_database(kind, tmp_path) as url, scripted_provider(script) as provider:
        env = server_env(url, tmp_path) | {"CHATKEEP_LLM_BASE_URL": provider}
        with running_server(env, tmp_path) as server:
            account = create_account(env)
            with httpx.Client(base_url=server.base_url, headers=account.headers,
                              timeout=30) as client:  # fmt: skip
                session = client.post("/api/v1/qllm/chat-sessions/").json()
                uploaded = client.post(
                    f"/v1/domains/{session['domain_id']}/documents",
                    files={"file": ("parks.md", PARKS, "text/markdown")},
                )
                assert uploaded.status_code in (201, 202), uploaded.text
                _wait_until_parsed(client, uploaded.json()["id"])
                with client.stream(
                    "POST", f"/api/v1/qllm/chat-stream/{session['id']}/",
                    json={"prompt": "Which is the largest city park in Amsterdam?"},
                ) as response:  # fmt: skip
                    assert response.status_code == 200
                    assert response.headers["content-type"].startswith("text/event-stream")
                    frames = _frames(response)
                listed = client.get(f"/api/v1/qllm/chat-sessions/{session['id']}/messages/")
            metadata = next(f for f in frames if f["type"] == "metadata")
            references = metadata["references"]
            assert isinstance(references, list) and references
            opened = httpx.get(references[0]["url"], timeout=30)  # no credentials
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "start" and kinds[-3:] == ["complete", "metadata", "end"]
    answer = "The Vondelpark is the largest [1]."
    assert "".join(str(f["content"]) for f in frames if f["type"] == "token") == answer
    assert references[0]["document_name"] == "parks.md" and references[0]["cited"] is True
    assert opened.status_code == 200 and opened.content == PARKS
    assert metadata["suggested_title"] == "Which is the largest city park in Amsterdam?"
    assert [m["content"] for m in listed.json()] == [
        "Which is the largest city park in Amsterdam?", answer,
    ]  # fmt: skip
