"""Alibaba-style errors: ``{"requestId", "code", "message"}`` with Alibaba's codes and statuses.

Every AI-doc response, success or error, carries an ``x-acs-request-id`` header equal to
the body's ``requestId``; the id is made once per request and kept on ``request.state``.
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatkeep.api.problems import Problem, ProblemKind

REQUEST_ID_HEADER = "x-acs-request-id"
THROTTLED_MESSAGE = "Request was denied due to user flow control."


class AidocError(Exception):
    """A failure already in Alibaba's terms: its code, message and HTTP status."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        *,
        access_denied_detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.access_denied_detail = access_denied_detail
        self.headers = headers or {}


def request_id(request: Request) -> str:
    """This request's id, made on first use, so the body and the header always agree."""
    rid: str | None = getattr(request.state, "acs_request_id", None)
    if rid is None:
        rid = str(uuid.uuid4()).upper()
        request.state.acs_request_id = rid
    return rid


def render_aidoc_error(request: Request, error: AidocError) -> Response:
    rid = request_id(request)
    body: dict[str, Any] = {"requestId": rid, "code": error.code, "message": error.message}
    if error.access_denied_detail is not None:
        # The SDK copies this onto ClientException.access_denied_detail.
        body["accessDeniedDetail"] = error.access_denied_detail
    headers = {**error.headers, REQUEST_ID_HEADER: rid}
    return JSONResponse(body, status_code=error.status, headers=headers)


# Failures that never reach an AI-doc handler: unknown paths, wrong methods, oversized
# bodies, database outages. Handlers translate everything else precisely (translate.py).
_PROBLEM_CODES: dict[ProblemKind, tuple[str, int]] = {
    ProblemKind.MALFORMED: ("InvalidParameter.Body", 400),
    ProblemKind.INVALID: ("InvalidParameter", 400),
    ProblemKind.UNAUTHENTICATED: ("InvalidAuthorization", 401),
    ProblemKind.FORBIDDEN: ("Forbidden.RAM", 403),
    ProblemKind.NOT_FOUND: ("InvalidAction.NotFound", 404),
    ProblemKind.METHOD_NOT_ALLOWED: ("UnsupportedHTTPMethod", 405),
    ProblemKind.CONFLICT: ("OperationConflict", 409),
    ProblemKind.TOO_LARGE: ("RequestEntityTooLarge", 413),
    ProblemKind.TIMEOUT: ("RequestTimeout", 408),
    # Alibaba's own flow-control answer: 400, so the SDK raises ClientException with
    # this code (an x-acs-retry-after header would turn it into ThrottlingException).
    ProblemKind.THROTTLED: ("Throttling.User", 400),
    ProblemKind.UNSUPPORTED_MEDIA_TYPE: ("UnsupportedMediaType", 415),
    ProblemKind.UNAVAILABLE: ("ServiceUnavailable", 503),
    ProblemKind.INTERNAL: ("InternalError", 500),
}

_PROBLEM_MESSAGES = {
    ProblemKind.NOT_FOUND: "The specified API does not exist.",
    ProblemKind.INTERNAL: "The request processing has failed due to some unknown error.",
    ProblemKind.THROTTLED: THROTTLED_MESSAGE,
}


def render_aidoc_problem(request: Request, problem: Problem) -> Response:
    """The renderer the dialect router uses for paths under the AI-doc prefixes."""
    code, status = _PROBLEM_CODES[problem.kind]
    message = _PROBLEM_MESSAGES.get(problem.kind, problem.message)
    if problem.kind is ProblemKind.METHOD_NOT_ALLOWED:
        message = f"This API does not support the {request.method} method."
    # Headers (Allow, Retry-After) are kept; the SDK throttles only on x-acs-retry-after.
    error = AidocError(code, message, status, headers=dict(problem.headers))
    return render_aidoc_error(request, error)
