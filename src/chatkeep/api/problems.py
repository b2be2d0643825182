"""Every failure a request can meet, normalised once; each dialect renders it its own way.

Exception handlers turn core errors, framework validation errors, HTTP errors and
database outages into a ``Problem``; the dialect that owns the request's path renders it,
so no request ever gets another dialect's error shape or a bare 500.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response


class ProblemKind(enum.Enum):
    MALFORMED = "malformed-request"  # the body is not parseable at all
    INVALID = "invalid-argument"  # a field or parameter has a bad value
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not-found"
    METHOD_NOT_ALLOWED = "method-not-allowed"
    CONFLICT = "conflict"
    TOO_LARGE = "payload-too-large"
    TIMEOUT = "request-timeout"  # the client did not send its body in time
    THROTTLED = "rate-limited"
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    UNAVAILABLE = "service-unavailable"
    INTERNAL = "internal-error"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str  # dotted location in the request, e.g. "title" or "query.limit"
    message: str
    kind: str | None = None  # the validator's error type ("missing"...); None: the core's
    param: str | None = None  # the parameter as sent (a body field's or query's name)


@dataclass(frozen=True, slots=True)
class Problem:
    kind: ProblemKind
    message: str
    status: int  # the HTTP status a dialect uses unless its own conventions differ
    fields: Sequence[FieldError] = ()
    reason: str | None = None  # finer cause, e.g. "expired" for UNAUTHENTICATED
    action: str | None = None  # what was refused, for FORBIDDEN
    resource: str | None = None  # what was not found, for NOT_FOUND from the core
    headers: dict[str, str] = field(default_factory=dict)


ProblemRenderer = Callable[[Request, Problem], Response]


class DialectRouter:
    """Chooses the renderer of the dialect that owns a path (longest prefix wins)."""

    def __init__(self, default: ProblemRenderer) -> None:
        self._default = default
        self._prefixes: list[tuple[str, ProblemRenderer]] = []

    def register(self, prefix: str, renderer: ProblemRenderer) -> None:
        self._prefixes.append((prefix, renderer))
        self._prefixes.sort(key=lambda item: len(item[0]), reverse=True)

    def renderer_for(self, path: str) -> ProblemRenderer:
        for prefix, renderer in self._prefixes:
            if path.startswith(prefix):
                return renderer
        return self._default

    def render(self, request: Request, problem: Problem) -> Response:
        return self.renderer_for(request.url.path)(request, problem)
