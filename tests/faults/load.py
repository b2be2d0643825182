"""Concurrent clients appending uniquely-keyed messages, and the books they keep.

Every append carries its own ``Idempotency-Key`` and a content that names the key, so
after a fault the stored rows can be matched one-to-one with what the clients were told.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Append:
    session_id: str
    key: str

    @property
    def content(self) -> str:
        return f"fault-test message {self.key}"


@dataclass(frozen=True)
class Outcome:
    append: Append
    status: int | None  # None: no HTTP answer at all (connection refused or cut)
    seconds: float
    started: float  # time.monotonic() when the request was sent
    body: bytes = b""
    replayed: bool = False  # answered from an earlier commit (Idempotent-Replayed: true)
    content_type: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Ledger:
    """What every client sent and what it was told, shared by all client threads."""

    outcomes: list[Outcome] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: Outcome) -> None:
        with self.lock:
            self.outcomes.append(outcome)

    def snapshot(self) -> list[Outcome]:
        with self.lock:
            return list(self.outcomes)

    def acknowledged(self) -> list[Append]:
        return [o.append for o in self.snapshot() if o.acknowledged]

    def unacknowledged(self) -> list[Append]:
        """Appends never acknowledged: each may or may not have been stored."""
        acked = {a.key for a in self.acknowledged()}
        seen: dict[str, Append] = {}
        for outcome in self.snapshot():
            if outcome.append.key not in acked:
                seen.setdefault(outcome.append.key, outcome.append)
        return list(seen.values())


def post_append(client: httpx.Client, append: Append) -> Outcome:
    started = time.monotonic()
    try:
        response = client.post(
            f"/v1/sessions/{append.session_id}/messages",
            json={"role": "user", "content": append.content},
            headers={"Idempotency-Key": append.key},
        )
    except httpx.HTTPError:
        return Outcome(append, None, time.monotonic() - started, started)
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    elapsed = time.monotonic() - started
    return Outcome(
        append, response.status_code, elapsed, started, response.content, replayed,
        response.headers.get("content-type", ""),
    )  # fmt: skip


class AppendLoad:
    """``clients`` threads appending to ``sessions`` until stopped."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        sessions: Sequence[str],
        *,
        clients: int = 8,
        timeout: float = 30,
    ) -> None:
        self.ledger = Ledger()
        self._base_url = base_url
        self._headers = headers
        self._sessions = list(sessions)
        self._timeout = timeout
        self._stopped = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)
        ]

    def __enter__(self) -> AppendLoad:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopped.set()
        for thread in self._threads:
            thread.join(timeout=self._timeout + 5)
            assert not thread.is_alive(), "a client thread hung past its own timeout"

    def wait_for_more_acknowledged(self, count: int, timeout: float = 60) -> None:
        """Until ``count`` more appends than now have been acknowledged."""
        target = len(self.ledger.acknowledged()) + count
        deadline = time.monotonic() + timeout
        while len(self.ledger.acknowledged()) < target:
            assert time.monotonic() < deadline, "the load never reached the expected state"
            time.sleep(0.05)

    def _run(self, client_no: int) -> None:
        run = secrets.token_hex(3)
        with httpx.Client(
            base_url=self._base_url, headers=self._headers, timeout=self._timeout
        ) as client:
            n = 0
            while not self._stopped.is_set():
                session = self._sessions[n % len(self._sessions)]
                outcome = post_append(client, Append(session, f"c{client_no}-{run}-{n}"))
                self.ledger.record(outcome)
                n += 1
                if not outcome.acknowledged:
                    time.sleep(0.05)  # the server or its database is down: do not spin


def retry_all(base_url: str, headers: dict[str, str], appends: Sequence[Append]) -> list[Outcome]:
    """Send each append again with its original key, as a client would after a failure."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        return [post_append(client, append) for append in appends]
