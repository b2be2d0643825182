"""One JSON log line and one metrics sample per request, and a request id on every response.

The id is the AI-doc dialect's own ``x-acs-request-id`` where a response carries one;
every other response gets a fresh ``X-Request-Id``. Callers' ids are not trusted (they
would let a client forge log lines). The log names the route *template*, never the raw
path or query, and the credential by its id — never a key, secret or signature.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkeep.api.aidoc.errors import REQUEST_ID_HEADER
from chatkeep.api.metrics import Metrics

access_log = logging.getLogger("chatkeep.access")
UNMATCHED = "<unmatched>"  # one label for every unknown path: no cardinality explosion


def enable_access_log() -> None:
    """A plain stderr handler printing the JSON as is (idempotent)."""
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)


class RequestObserver:
    """Outermost middleware, so refusals made by other middleware are seen too."""

    def __init__(self, app: ASGIApp, metrics: Metrics, *, log_requests: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app dies before answering, the server sends a 500
        request_id = ""

        async def observed_send(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                request_id = _request_id(message)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            if self.log_requests:
                _log(scope, route, status, seconds, request_id)


def route_template(scope: Scope) -> str:
    """The matched route's full path template, e.g. ``/v1/sessions/{session_id}``.

    FastAPI leaves the route of an included router in ``scope["route"]`` with its path
    relative to the router's prefix; the prefixes here are literal, so the leading
    segments of the request path that the relative template does not cover are it.
    """
    relative: str | None = getattr(scope.get("route"), "path", None)
    if relative is None:
        return UNMATCHED
    extra = scope["path"].count("/") - relative.count("/")
    if extra <= 0:
        return relative
    prefix = "/".join(scope["path"].split("/")[: extra + 1])
    return prefix + relative


def _request_id(message: Message) -> str:
    headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            return value.decode("latin-1")
    rid = uuid.uuid4().hex
    headers.append((b"x-request-id", rid.encode()))
    return rid


def _log(scope: Scope, route: str, status: int, seconds: float, request_id: str) -> None:
    state: dict[str, Any] = scope.get("state", {})
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": request_id,
        "method": scope["method"],
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 2),
        "credential": state.get("credential_id"),
        "worker": os.getpid(),  # which `serve --workers N` process answered
    }
    access_log.info(orjson.dumps(line).decode())
