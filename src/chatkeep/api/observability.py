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
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import Message, Scope

from chatkeep.api.aidoc.errors import REQUEST_ID_HEADER

access_log = logging.getLogger("chatkeep.access")
UNMATCHED = "<unmatched>"  # one label for every unknown path: no cardinality explosion


def enable_access_log() -> None:
    """A plain stderr handler printing the JSON as is (idempotent)."""
    if not access_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
    access_log.setLevel(logging.INFO)


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


def request_id(message: Message) -> str:
    headers: list[tuple[bytes, bytes]] = message.setdefault("headers", [])
    for name, value in headers:
        if name.lower() == REQUEST_ID_HEADER.encode():
            return value.decode("latin-1")
    rid = uuid.uuid4().hex
    headers.append((b"x-request-id", rid.encode()))
    return rid


def log_request(scope: Scope, route: str, status: int, seconds: float, request_id: str) -> None:
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
