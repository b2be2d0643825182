"""Server processes under test: the real ``chatkeep serve``, the floor, the constant one.

Each runs as a child process on loopback, optionally pinned to one CPU (the load
generator gets the other), and is stopped with SIGTERM (SIGKILL after a grace period).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from chatkeep.bench.procstat import pin_to_cpu
from chatkeep.settings import Settings

BENCH_SECRET = "chatkeep-bench-secret"  # fixed, so captured cursors stay valid across runs
SERVER_CPU = 0


@dataclass(frozen=True, slots=True)
class RunningServer:
    pid: int
    port: int
    pinned: bool

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def chatkeep_command(port: int) -> list[str]:
    """Exactly what a user runs: ``chatkeep serve`` (one worker, default settings)."""
    return [sys.executable, "-m", "chatkeep.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip


def floor_command(port: int, responses: Path) -> list[str]:
    return [sys.executable, "-m", "chatkeep.bench.floor_app", str(port), str(responses)]


def constant_command(port: int) -> list[str]:
    return [sys.executable, "-m", "chatkeep.bench.loadgen", "--constant-server", str(port)]


# The per-credential rate limit would cap every scenario (one credential each) far below
# what the server can do; the benchmark turns it off and the report says so.
RATE_LIMIT_OFF = {"CHATKEEP_RATE_LIMIT_REQUESTS": "0"}
RATE_LIMIT_NOTE = (
    "turned off for the benchmark (CHATKEEP_RATE_LIMIT_REQUESTS=0): the default limit per "
    "credential would cap each scenario, and with it on every request also pays one "
    "counter upsert"
)


def bench_settings(database_url: str) -> Settings:
    """The settings the server runs with, for the in-process parts (SQL floor, loading)."""
    return Settings(database_url=database_url, secret_key=BENCH_SECRET, rate_limit_requests=0)


def bench_environment(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["CHATKEEP_DATABASE_URL"] = database_url
    env["CHATKEEP_SECRET_KEY"] = BENCH_SECRET
    env.update(RATE_LIMIT_OFF)
    return env


@contextmanager
def running(
    command: list[str], port: int, env: dict[str, str], log: Path, *, pin: bool,
    ready_path: str | None = "/healthz",
) -> Iterator[RunningServer]:  # fmt: skip
    """Start ``command``, wait until it answers on ``port``, yield it, stop it."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        pinned = pin and pin_to_cpu(process.pid, SERVER_CPU)
        _wait_ready(process, port, ready_path, log)
        yield RunningServer(process.pid, port, pinned)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(
    process: subprocess.Popen[bytes], port: int, path: str | None, log: Path, timeout: float = 90
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail}")
        try:
            if path is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready within {timeout:.0f} s (log: {log})")
