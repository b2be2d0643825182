"""One request per dialect, and what a clean "database unavailable" answer looks like in each."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx
import orjson

AIDOC_SESSION_LIST = "/api/v2/aidoc/document/chat/session/list"
AISQUARE_SESSION_LIST = "/api/v1/qllm/chat-sessions/"


@dataclass(frozen=True)
class Answer:
    dialect: str  # "readyz", "native", "aisquare", "aidoc" or "native-append"
    status: int | None  # None: no HTTP answer (a hung or dead server)
    seconds: float
    started: float
    content_type: str = ""
    body: bytes = b""
    retry_after: str | None = None


def probe(client: httpx.Client, dialect: str, key: str) -> Answer:
    started = time.monotonic()
    try:
        if dialect == "readyz":
            response = client.get("/readyz")
        elif dialect == "native":
            response = client.get("/v1/sessions", headers={"Authorization": f"Bearer {key}"})
        elif dialect == "aisquare":
            response = client.get(AISQUARE_SESSION_LIST, headers={"Authorization": f"Bearer {key}"})
        else:
            response = client.post(AIDOC_SESSION_LIST, json={}, headers={"x-acs-bearer-token": key})
    except httpx.HTTPError:
        return Answer(dialect, None, time.monotonic() - started, started)
    return Answer(
        dialect, response.status_code, time.monotonic() - started, started,
        response.headers.get("content-type", ""), response.content,
        response.headers.get("retry-after"),
    )  # fmt: skip


def unavailable_problem(dialect: str, content_type: str, body: bytes) -> str | None:
    """Why this is *not* a clean 503 body in the dialect's own format (None when it is)."""
    if b"Traceback" in body or b'File "' in body:
        return "a stack trace in the body"
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return f"not JSON: {body[:200]!r}"
    if dialect in {"readyz", "native", "native-append"}:
        ok = content_type == "application/problem+json" and payload.get("type") == (
            "urn:chatkeep:problem:service-unavailable"
        )
    elif dialect == "aisquare":
        ok = content_type == "application/json" and set(payload) == {"detail"}
    else:
        ok = set(payload) == {"requestId", "code", "message"} and (
            payload["code"] == "ServiceUnavailable"
        )
    return None if ok else f"{dialect} 503 in the wrong shape: {content_type} {payload}"


@dataclass
class Prober:
    """A thread asking /readyz and each dialect's session list in turn, until stopped."""

    base_url: str
    key: str
    timeout: float
    answers: list[Answer] = field(default_factory=list)
    _stopped: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Prober:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        assert self._thread is not None
        self._thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        dialects = ("readyz", "native", "aisquare", "aidoc")
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            n = 0
            while not self._stopped.is_set():
                self.answers.append(probe(client, dialects[n % len(dialects)], self.key))
                n += 1
                time.sleep(0.02)
