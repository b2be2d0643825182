"""The real ``chatkeep serve`` as a child process group that a test may kill -9 and restart."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest

from tests.api.aidoc.live_server import chatkeep_command, run_cli_all
from tests.processes import free_port

STARTUP_SECONDS = 60


def server_env(database_url: str, workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "CHATKEEP_DATABASE_URL": database_url,
        "CHATKEEP_SECRET_KEY": "faults-" + secrets.token_hex(16),
        "CHATKEEP_SECRET_KEY_FILE": str(workdir / "unused.secret"),
        "CHATKEEP_LOG_LEVEL": "warning",
    }


@dataclass
class Account:
    """A tenant with one user and an all-scopes user key, made through the CLI."""

    tenant: str
    user_id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def create_account(env: dict[str, str]) -> Account:
    tenant = "faults-" + secrets.token_hex(3)
    run_cli_all(env, [("tenant", "create", tenant, "--json")])
    (issued,) = run_cli_all(env, [("key", "create", "--tenant", tenant, "--user", "u1", "--json")])
    return Account(tenant, "u1", orjson.loads(issued)["key"])


def create_sessions(base_url: str, headers: dict[str, str], count: int) -> list[str]:
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        created = [client.post("/v1/sessions", json={"title": f"s{n}"}) for n in range(count)]
    assert all(r.status_code == 201 for r in created), [r.text for r in created]
    return [str(r.json()["id"]) for r in created]


@dataclass
class Server:
    """``chatkeep serve`` in its own process group, so kill -9 takes every worker with it."""

    env: dict[str, str]
    log: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [*chatkeep_command(), "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"chatkeep serve exited:\n{self.log.read_text()}", pytrace=False)
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"chatkeep serve not ready in time:\n{self.log.read_text()}", pytrace=False)

    def kill9(self) -> None:
        """SIGKILL the whole process group: no shutdown hook, no flush, no goodbye."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


@contextmanager
def running_server(env: dict[str, str], workdir: Path, *, workers: int = 1) -> Iterator[Server]:
    server = Server(env, workdir / "server.log", workers=workers)
    server.start()
    try:
        yield server
    finally:
        server.stop()
