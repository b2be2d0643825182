"""kill -9 of the server mid-answer: after a restart the question and the partial answer are
stored, the answer is ``incomplete`` (an ``error`` event says so), and the session can ask
again. The provider is the scripted one, paused mid-answer, so the kill lands mid-stream."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.answers_support import Script, scripted_provider
from tests.api.aidoc.live_server import fresh_database
from tests.faults.server import Server, create_account, create_sessions, server_env

pytestmark = pytest.mark.faults


def _events(response: httpx.Response, stop_after: str | None = None) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    found, kind = [], ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            found.append((kind, json.loads(line[6:])))
            if kind == stop_after:
                break
    return found


def _wait_for_content(server: Server, headers: dict[str, str], answer_id: str, text: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answer = httpx.get(f"{server.base_url}/v1/answers/{answer_id}", headers=headers).json()
        if answer["content"] == text:
            return text
        time.sleep(0.05)
    raise AssertionError(f"the stalled text was never stored: {answer['content']!r}")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_mid_answer_leaves_the_question_and_the_partial_answer_incomplete(
    kind: str, tmp_path: Path, figures: list[str]
) -> None:
    script = Script(hold_after=2)
    with fresh_database(kind, tmp_path) as url, scripted_provider(script) as provider:
        env = server_env(url, tmp_path) | {
            "CHATKEEP_LLM_BASE_URL": provider, "CHATKEEP_ANSWER_LEASE_SECONDS": "2",
            "CHATKEEP_ANSWER_REQUIRE_PASSAGES": "false",
        }  # fmt: skip
        server = Server(env, tmp_path / "server.log", workers=2)
        server.start()
        try:
            account = create_account(env)
            (sid,) = create_sessions(server.base_url, account.headers, 1)
            with httpx.stream("POST", f"{server.base_url}/v1/sessions/{sid}/answers",
                              headers=account.headers, json={"question": "Still there?"},
                              timeout=30) as response:  # fmt: skip
                seen = _events(response, stop_after="delta")
                answer_id = seen[0][1]["answer_id"]
                assert script.held.wait(30)
                # The model is paused: the text it sent is stored anyway, soon after.
                partial = _wait_for_content(server, account.headers, answer_id, "Paris is ")
                server.kill9()
            server.start()
            with httpx.stream("GET", f"{server.base_url}/v1/answers/{answer_id}/events",
                              headers=account.headers, timeout=60) as response:  # fmt: skip
                replay = _events(response)
            answer = httpx.get(f"{server.base_url}/v1/answers/{answer_id}",
                               headers=account.headers).json()  # fmt: skip
            listed = httpx.get(f"{server.base_url}/v1/sessions/{sid}/messages",
                               headers=account.headers).json()["data"]  # fmt: skip
            script.hold_after = None
            again = httpx.post(f"{server.base_url}/v1/sessions/{sid}/answers",
                               headers=account.headers, timeout=60,
                               json={"question": "And now?", "stream": False})  # fmt: skip
        finally:
            script.gate.set()
            server.stop()
    assert replay[-1][0] == "error" and replay[-1][1]["status"] == "incomplete"
    assert answer["status"] == "incomplete" and answer["content"] == partial and partial
    assert [m["content"] for m in listed[:2]] == ["Still there?", partial]
    assert again.status_code == 200 and again.json()["status"] == "complete"
    figures.append(f"answers kill -9 ({kind}): partial {len(partial)} chars kept, incomplete")
