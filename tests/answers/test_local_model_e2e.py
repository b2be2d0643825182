"""End to end: the real `chatkeep serve` with the real embedded model (SmolLM2-135M via
llama.cpp), nothing configured but the database; then `chatkeep ask` in a terminal.

The model's text is whatever a 135M model says: the tests check the lifecycle (stored
question, streamed deltas, a complete answer with the model's usage), not its quality.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from tests.answers_support import free_port
from tests.processes import stop
from tests.test_cli import CHATKEEP, TIMEOUT, _env, chatkeep

# No passages (no documents yet): let the model answer anyway, briefly (2 cores, ~14 tok/s).
ENV = {"CHATKEEP_ANSWER_REQUIRE_PASSAGES": "false", "CHATKEEP_LLM_MAX_TOKENS": "24"}


def _run(url: str, cwd: Path, *args: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CHATKEEP, *args], env={**_env(url), **ENV}, cwd=cwd, text=True, **popen
    )


def _events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    found, kind = [], ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            found.append((kind, json.loads(line[6:])))
    return found


def _wait_healthy(base: str, server: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while True:
        assert server.poll() is None, f"serve exited early:\n{log.read_text()}"
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"serve never answered:\n{log.read_text()}"
        time.sleep(0.2)


def test_serve_answers_with_the_embedded_model_and_ask_streams_in_the_terminal(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'e2e.db'}"
    demo = chatkeep(url, tmp_path, "demo", "--json").json()
    headers = {"Authorization": f"Bearer {demo['key']}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = _run(url, tmp_path, "serve", "--port", str(port), stdout=log, stderr=log)
        try:
            _wait_healthy(base, server, log_path)
            sid = httpx.get(f"{base}/v1/sessions", headers=headers).json()["data"][0]["id"]
            with httpx.stream(
                "POST",
                f"{base}/v1/sessions/{sid}/answers",
                headers=headers,
                json={"question": "Say hello."},
                timeout=120,
            ) as response:
                assert response.status_code == 200
                events = _events(response)
        finally:
            stop(server)
    kinds = [k for k, _ in events]
    assert kinds[:2] == ["question", "references"] and kinds[-1] == "done", events
    assert "delta" in kinds
    answer = events[-1][1]["answer"]
    assert answer["status"] == "complete" and answer["content"].strip()
    assert answer["content"] == "".join(d["text"] for k, d in events if k == "delta")
    assert answer["model"] and 0 < answer["usage"]["completion_tokens"] <= 24
    assert "Traceback" not in log_path.read_text()

    asked = _run(
        url,
        tmp_path,
        "ask",
        "--tenant",
        "demo",
        "--user",
        demo["user_id"],
        sid,
        "Say goodbye.",
        "--json",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = asked.communicate(timeout=TIMEOUT)
    assert asked.returncode == 0, stderr
    printed = json.loads(stdout.strip().splitlines()[-1])
    assert printed["status"] == "complete" and printed["content"].strip()
    assert printed["alternatives"] == [printed["id"]]
