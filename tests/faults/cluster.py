"""A throwaway PostgreSQL cluster of the test's own (initdb into a temp dir, its own port).

The fault tests stop and restart this cluster; the machine's shared one is never touched.
initdb refuses to run as root, so as root every server command runs as the ``postgres``
OS user, in a temporary directory that user owns.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import free_port


def _bin(name: str) -> str:
    found = shutil.which(name) or next(iter(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")), None)
    if found is None:
        pytest.fail(f"{name} not found: the fault suite needs PostgreSQL's server binaries")
    return found


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass(frozen=True)
class Cluster:
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg_ctl(self, *args: str) -> None:
        command = _as_owner([_bin("pg_ctl"), "-D", str(self.data), *args])
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log = (self.base / "server.log").read_text(errors="replace")[-4000:]
            pytest.fail(f"pg_ctl {' '.join(args)} failed: {done.stderr}\n{log}", pytrace=False)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1"
        self._pg_ctl("-o", options, "-l", str(self.base / "server.log"), "-w", "start")

    def stop(self, mode: str) -> None:
        """``immediate`` is a crash (recovery from WAL at the next start); ``fast`` is clean."""
        self._pg_ctl("-m", mode, "-w", "stop")

    def freeze(self, sig: signal.Signals = signal.SIGSTOP) -> None:
        """SIGSTOP every server process: a hung host, sockets open but nothing answers."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, sig)  # first, so it forks no new backend meanwhile
        # Each backend calls setsid(), so the process group holds only the postmaster.
        for child in _children(postmaster):
            # A backend can exit between the listing and the signal (once thawed, one
            # whose client gave up ends at once): nothing is left to stop or continue.
            with suppress(ProcessLookupError):
                os.kill(child, sig)

    def thaw(self) -> None:
        self.freeze(signal.SIGCONT)

    def running(self) -> bool:
        command = _as_owner([_bin("pg_ctl"), "-D", str(self.data), "status"])
        return subprocess.run(command, capture_output=True).returncode == 0


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="chatkeep-faults-pg-"))
    try:
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(base, postgres.pw_uid, postgres.pw_gid)
        cluster = Cluster(base, free_port())
        initdb = [_bin("initdb"), "-D", str(cluster.data), "-U", "postgres", "--auth=trust"]
        done = subprocess.run(
            _as_owner([*initdb, "-E", "UTF8", "--no-sync"]),
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.fail(f"initdb failed: {done.stderr}", pytrace=False)
        cluster.start()
        try:
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
    finally:
        # The server may take a moment to release its socket files after stopping.
        for _ in range(10):
            try:
                shutil.rmtree(base)
                break
            except OSError:
                time.sleep(0.2)
