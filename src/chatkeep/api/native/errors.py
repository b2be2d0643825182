"""RFC 9457 problem details for the native API."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatkeep.api.problems import Problem, ProblemKind

PROBLEM_TYPE_BASE = "urn:chatkeep:problem:"
MEDIA_TYPE = "application/problem+json"

_TITLES = {
    ProblemKind.MALFORMED: "Malformed request",
    ProblemKind.INVALID: "Invalid request",
    ProblemKind.UNAUTHENTICATED: "Authentication required",
    ProblemKind.FORBIDDEN: "Forbidden",
    ProblemKind.NOT_FOUND: "Not found",
    ProblemKind.METHOD_NOT_ALLOWED: "Method not allowed",
    ProblemKind.CONFLICT: "Conflict",
    ProblemKind.TOO_LARGE: "Payload too large",
    ProblemKind.TIMEOUT: "Request timeout",
    ProblemKind.THROTTLED: "Too many requests",
    ProblemKind.UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
    ProblemKind.UNAVAILABLE: "Service unavailable",
    ProblemKind.INTERNAL: "Internal error",
}


def render_native_problem(request: Request, problem: Problem) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + problem.kind.value,
        "title": _TITLES[problem.kind],
        "status": problem.status,
        "detail": problem.message,
        "instance": request.url.path,
    }
    if problem.fields:
        body["errors"] = [{"field": f.field, "message": f.message} for f in problem.fields]
    headers = dict(problem.headers)
    if problem.kind is ProblemKind.UNAUTHENTICATED:
        error = "" if problem.reason == "missing" else ', error="invalid_token"'
        headers["WWW-Authenticate"] = f'Bearer realm="chatkeep"{error}'
    return JSONResponse(body, status_code=problem.status, headers=headers, media_type=MEDIA_TYPE)
