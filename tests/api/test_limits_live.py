"""Limits that only a real server shows: across worker processes, and against slow clients.

Runs ``chatkeep serve`` as a child process (set up through its own CLI) and talks to it
over real sockets.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
from alibabacloud_energyexpertexternal20220923 import models
from alibabacloud_energyexpertexternal20220923.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config

from tests.api.aidoc.live_server import (
    LiveServer,
    chatkeep_command,
    fresh_database,
    run_cli,
)
from tests.processes import free_port, stop

BUDGET = 12


@contextmanager
def serve(
    database_url: str, workdir: Path, *, workers: int, **env: str
) -> Iterator[tuple[LiveServer, str]]:
    """The server, and a user key of the demo tenant."""
    environment = {
        **os.environ,
        "CHATKEEP_DATABASE_URL": database_url,
        "CHATKEEP_SECRET_KEY": "limits-" + secrets.token_hex(16),
        "CHATKEEP_SECRET_KEY_FILE": str(workdir / "unused.secret"),
        "CHATKEEP_LOG_LEVEL": "warning",
        **{f"CHATKEEP_{name.upper()}": value for name, value in env.items()},
    }
    # `demo` migrates and issues a key in one CLI start (each start costs seconds).
    demo_key = orjson.loads(run_cli(environment, "demo", "--json"))["key"]
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        port = free_port()
        process = subprocess.Popen(
            [*chatkeep_command(), "serve", "--port", str(port), "--workers", str(workers)],
            env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = LiveServer(port, environment, process, log_path)
        try:
            server.wait_until_ready()
            yield server, demo_key
        finally:
            stop(process, timeout=15)


def access_lines(server: LiveServer) -> list[dict[str, object]]:
    text = server.log.read_text()
    return [orjson.loads(line) for line in text.splitlines() if line.startswith('{"time"')]


def wait_for_workers(server: LiveServer, count: int, timeout: float = 60) -> None:
    """Until ``count`` worker processes have answered (the second may still be starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        httpx.get(f"{server.base_url}/healthz")  # a new connection each time
        if len({x["worker"] for x in access_lines(server)}) >= count:
            return
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} workers answered within {timeout} s")


GUARDS = {
    "rate_limit_requests": str(BUDGET),
    "rate_limit_window_seconds": "3600",
    "body_timeout_seconds": "1",
    "keep_alive_seconds": "1",
    "max_body_bytes": "2048",
}


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """One PostgreSQL-backed server with two workers for the whole module (starting one
    costs tens of seconds on a busy 2-core machine)."""
    workdir = tmp_path_factory.mktemp("limits")
    with (
        fresh_database("postgresql", workdir) as url,
        serve(url, workdir, workers=2, **GUARDS) as s,
    ):
        yield s


def test_the_limit_holds_across_two_worker_processes(deployment: tuple[LiveServer, str]) -> None:
    server, key = deployment
    headers = {"Authorization": f"Bearer {key}"}
    wait_for_workers(server, 2)
    while time.time() % 3600 > 3590:  # never straddle two windows
        time.sleep(1)

    def one(_: int) -> int:  # a new connection each time, so both workers accept some
        return httpx.get(f"{server.base_url}/v1/sessions", headers=headers).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(one, range(4 * BUDGET)))
    assert statuses == {200: BUDGET, 429: 3 * BUDGET}
    answered_by = {x["worker"] for x in access_lines(server) if x["route"] == "/v1/sessions"}
    assert len(answered_by) == 2, "both worker processes should have answered"

    # The official SDK sees Alibaba's flow-control error as a ClientException.
    sdk = Client(Config(bearer_token=key, endpoint=server.endpoint, protocol="http"))
    with pytest.raises(ClientException) as raised:
        sdk.get_chat_session_list(models.GetChatSessionListRequest())
    assert (raised.value.status_code, raised.value.code) == (400, "Throttling.User")


def connect(server: LiveServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def read_until_closed(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_a_client_dribbling_its_body_is_cut_off_and_others_are_served(
    deployment: tuple[LiveServer, str],
) -> None:
    server = deployment[0]
    sock = connect(server)
    started = time.monotonic()
    sock.sendall(
        b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 300\r\n\r\n{"
    )
    served_meanwhile = False
    try:
        for _ in range(299):  # one byte every 0.2 s: the body would take a minute
            time.sleep(0.2)
            if not served_meanwhile:
                served_meanwhile = httpx.get(f"{server.base_url}/healthz").status_code == 200
            sock.sendall(b" ")
    except OSError:
        pass  # the server closed the connection: what this test wants
    answer = read_until_closed(sock)
    elapsed = time.monotonic() - started
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"urn:chatkeep:problem:request-timeout" in answer
    # The documented 1 s, with a loaded machine's slack: far less than the body's minute.
    assert elapsed < 15
    assert served_meanwhile


def test_an_idle_keep_alive_connection_is_closed(deployment: tuple[LiveServer, str]) -> None:
    server = deployment[0]
    sock = connect(server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = b""
    while not first.endswith(b'{"status":"ok"}'):
        first += sock.recv(65536)
    assert first.startswith(b"HTTP/1.1 200 ")
    started = time.monotonic()
    rest = read_until_closed(sock)  # returns when the server closes the idle connection
    elapsed = time.monotonic() - started
    sock.close()
    assert rest == b""
    # Keep-alive 1 s; the socket's own 10 s timeout would raise, so this bounds the slack.
    assert elapsed < 10
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_an_oversized_chunked_body_is_refused_on_the_wire(
    deployment: tuple[LiveServer, str],
) -> None:
    server = deployment[0]
    sock = connect(server)
    chunk = b'{"title": "' + b"x" * 4096 + b'"}'
    sock.sendall(
        b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    )
    answer = read_until_closed(sock)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"urn:chatkeep:problem:payload-too-large" in answer
