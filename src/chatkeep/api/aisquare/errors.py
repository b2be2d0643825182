"""Django REST Framework style errors for the AISquare dialect.

``{"detail": "..."}`` for everything except field errors, which are
``{"field": ["message", ...]}`` with status 400, as DRF's serializers render them.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatkeep.api.problems import FieldError, Problem, ProblemKind
from chatkeep.core.errors import NotFound

WWW_AUTHENTICATE = 'Bearer realm="api"'

# DRF answers every validation failure with 400, where the native API uses 422.
_STATUS = {ProblemKind.INVALID: 400, ProblemKind.MALFORMED: 400}

# DRF's own wording where a client may match on it.
_FIXED_DETAIL = {
    ProblemKind.NOT_FOUND: "Not found.",
    ProblemKind.INTERNAL: "A server error occurred.",
}

# AISquare documents this 404 body for the chat stream; everything else keeps DRF's wording.
CHAT_SESSION_NOT_FOUND = "Chat session not found"
_CHAT_SESSION = "chat-session"

# Framework locations ("query.domain_id") name the parameter itself on this wire.
_LOCATIONS = ("query.", "path.", "header.")


class ChatSessionNotFound(NotFound):
    """The chat stream's session is unknown, another user's or another tenant's."""

    def __init__(self) -> None:
        super().__init__("chat session")
        self.reason = _CHAT_SESSION


def render_aisquare_problem(request: Request, problem: Problem) -> Response:
    status = _STATUS.get(problem.kind, problem.status)
    headers = dict(problem.headers)
    if problem.kind is ProblemKind.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = WWW_AUTHENTICATE
    if problem.fields:
        return JSONResponse(field_errors(problem.fields), status_code=status, headers=headers)
    return JSONResponse({"detail": _detail(request, problem)}, status_code=status, headers=headers)


def field_errors(fields: Sequence[FieldError]) -> dict[str, list[str]]:
    """DRF's shape: each field once, with all its messages; whole-body errors under
    ``non_field_errors``."""
    errors: dict[str, list[str]] = {}
    for error in fields:
        errors.setdefault(_field_name(error.field), []).append(error.message)
    return errors


def _field_name(location: str) -> str:
    for prefix in _LOCATIONS:
        if location.startswith(prefix):
            return location.removeprefix(prefix)
    return "non_field_errors" if location == "body" else location


def _detail(request: Request, problem: Problem) -> str:
    if problem.kind is ProblemKind.METHOD_NOT_ALLOWED:
        return f'Method "{request.method}" not allowed.'
    if problem.kind is ProblemKind.THROTTLED:
        return throttled_detail(int(problem.headers.get("Retry-After", "1")))
    if problem.kind is ProblemKind.NOT_FOUND and problem.reason == _CHAT_SESSION:
        return CHAT_SESSION_NOT_FOUND
    return _FIXED_DETAIL.get(problem.kind, problem.message)


def throttled_detail(wait: int) -> str:
    """DRF's ``Throttled`` wording, singular and plural as DRF words them."""
    unit = "second" if wait == 1 else "seconds"
    return f"Request was throttled. Expected available in {wait} {unit}."
