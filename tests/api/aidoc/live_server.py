"""The real ``chatkeep`` process on a loopback port, set up through its own CLI.

Shared by the SDK end-to-end tests (bearer mode here, ACS3 mode in the signature tests).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.databases import fresh_postgres_database
from tests.processes import free_port, stop

STARTUP_SECONDS = 30


def chatkeep_command() -> list[str]:
    """The installed ``chatkeep`` script next to this interpreter, else the module."""
    script = Path(sys.executable).with_name("chatkeep")
    return [str(script)] if script.exists() else [sys.executable, "-m", "chatkeep.cli"]


@dataclass(frozen=True)
class LiveServer:
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"chatkeep serve exited:\n{self.log.read_text()}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"chatkeep serve did not start in time:\n{self.log.read_text()}")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    def cli(self, *args: str) -> dict[str, Any]:
        """Run a creating CLI command with ``--json`` and return the object it prints."""
        return self.cli_all(args)[0]

    def cli_all(self, *commands: tuple[str, ...]) -> list[dict[str, Any]]:
        """Run independent ``--json`` commands at once (each CLI start costs seconds)."""
        return [
            orjson.loads(out) for out in run_cli_all(self.env, [(*c, "--json") for c in commands])
        ]


def run_cli(env: dict[str, str], *args: str) -> str:
    return run_cli_all(env, [args])[0]


def run_cli_all(env: dict[str, str], commands: list[tuple[str, ...]]) -> list[str]:
    running = [
        (args, subprocess.Popen(
            [*chatkeep_command(), *args], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        ))
        for args in commands
    ]  # fmt: skip
    outputs = []
    for args, process in running:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, f"chatkeep {' '.join(args)} failed: {err}"
        outputs.append(out)
    return outputs


@contextmanager
def live_server(
    database_url: str, workdir: Path, *, wait: bool = True, settings: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """Migrate with the CLI, then serve. With ``wait=False`` the caller may run CLI set-up
    while the server starts, and calls ``server.wait_until_ready()`` itself. ``settings``
    adds ``CHATKEEP_*`` environment variables (server and CLI alike)."""
    env = {
        **os.environ,
        "CHATKEEP_DATABASE_URL": database_url,
        "CHATKEEP_SECRET_KEY": "e2e-" + secrets.token_hex(16),
        "CHATKEEP_SECRET_KEY_FILE": str(workdir / "unused.secret"),
        "CHATKEEP_LOG_LEVEL": "warning",
        **(settings or {}),
    }
    run_cli(env, "migrate")
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        port = free_port()
        process = subprocess.Popen(
            [*chatkeep_command(), "serve", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = LiveServer(port, env, process, log_path)
        try:
            if wait:
                server.wait_until_ready()
            yield server
        finally:
            stop(process, timeout=10)


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A new, empty database of ``kind`` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'e2e.db'}"
        return
    with fresh_postgres_database("chatkeep_e2e") as url:
        yield url
