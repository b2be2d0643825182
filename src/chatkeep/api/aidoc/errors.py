"""The AI-doc dialect's one error renderer: ``{"requestId", "code", "message"}`` with
Alibaba's codes and statuses (the table in docs/aidoc.md).

Every failure on an AI-doc path reaches it as a ``Problem`` from the app's handlers (core
errors, validation errors, unknown paths, outages), or as an ``AidocError`` a handler
raised already in Alibaba's terms (a signature's code, say). Both propagate out of the
route first, so the request's unit of work rolls back and a refused request changes
nothing (not even a signature nonce). Every AI-doc response, success or error, carries an
``x-acs-request-id`` header equal to the body's ``requestId``; the id is made once per
request and kept on ``request.state``.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from chatkeep.api.problems import FieldError, Problem, ProblemKind
from chatkeep.core.types import CredentialKind, Principal

log = logging.getLogger("chatkeep.aidoc")

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
        rid = request.state.acs_request_id = new_request_id()
    return rid


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


def render_aidoc_error(request: Request, error: AidocError) -> Response:
    rid = request_id(request)
    body: dict[str, Any] = {"requestId": rid, "code": error.code, "message": error.message}
    if error.access_denied_detail is not None:
        # The SDK copies this onto ClientException.access_denied_detail.
        body["accessDeniedDetail"] = error.access_denied_detail
    headers = {**error.headers, REQUEST_ID_HEADER: rid}
    return JSONResponse(body, status_code=error.status, headers=headers)


# Core names a field in its own words; the SDK user knows the wire name.
WIRE_FIELDS = {
    "title": "name",
    "name": "folderName",
    "user_id": "userId",
    "parent_id": "parentFolderId",
    "domain_id": "folderId",
    "limit": "pageSize",
    "q": "name",  # the session-list filter
}

NOT_FOUND = {
    "session": ("InvalidSessionId.NotFound", "The session does not exist."),
    "domain": ("InvalidFolderId.NotFound", "The folder does not exist."),
    "parent domain": ("InvalidParentFolderId.NotFound", "The parent folder does not exist."),
}

UNAUTHENTICATED = {
    "missing": "MissingAuthorization",
    "invalid": "InvalidBearerToken.NotFound",
    "expired": "InvalidBearerToken.Expired",
    "revoked": "InvalidBearerToken.Revoked",
}

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
    return render_aidoc_error(request, aidoc_error(request, problem))


def render_raised(request: Request, exc: Exception) -> Response:
    """The app's handler for an ``AidocError`` a handler or dependency raised."""
    assert isinstance(exc, AidocError)
    return render_aidoc_error(request, exc)


def aidoc_error(request: Request, problem: Problem) -> AidocError:
    kind = problem.kind
    if kind in (ProblemKind.INVALID, ProblemKind.MALFORMED):
        return _invalid(problem)
    if kind is ProblemKind.NOT_FOUND and problem.resource is not None:
        code, message = NOT_FOUND.get(
            problem.resource, ("ResourceNotFound", f"The {problem.resource} does not exist.")
        )
        return AidocError(code, message, 404)
    route = request.scope.get("route")
    if kind is ProblemKind.FORBIDDEN and route is not None:
        principal = getattr(request.state, "aidoc_principal", None)
        return forbidden(problem.message, f"energy:{route.name}", principal)
    if kind is ProblemKind.UNAUTHENTICATED:
        code = UNAUTHENTICATED.get(problem.reason or "", "InvalidAuthorization")
        return AidocError(code, problem.message, 401)
    code, status = _PROBLEM_CODES[kind]
    message = _PROBLEM_MESSAGES.get(kind, problem.message)
    if kind is ProblemKind.METHOD_NOT_ALLOWED:
        message = f"This API does not support the {request.method} method."
    elif kind is ProblemKind.INTERNAL and route is not None:
        log.error("an AI-doc request failed: %s", problem.message)
    # Headers (Allow, Retry-After) are kept; the SDK throttles only on x-acs-retry-after.
    return AidocError(code, message, status, headers=dict(problem.headers))


def invalid_parameter(field: str, detail: str) -> AidocError:
    return AidocError(
        f"InvalidParameter.{field[:1].upper()}{field[1:]}", f"Invalid {field}: {detail}"
    )


def missing_parameter(field: str) -> AidocError:
    return AidocError(
        "MissingParameter",
        f'The input parameter "{field}" that is mandatory for processing this request is '
        "not supplied.",
    )


def _invalid(problem: Problem) -> AidocError:
    if not problem.fields:  # the body as a whole
        return invalid_parameter("body", f"{problem.message[:1].lower()}{problem.message[1:]}")
    first: FieldError = problem.fields[0]
    detail = f"{first.message.rstrip('.')}."
    if first.kind is None:  # the core's InvalidArgument, in its own field names
        return invalid_parameter(WIRE_FIELDS.get(first.field, first.field), detail)
    if first.param is None:  # the body is not an object, or not sent as JSON
        return invalid_parameter("body", "send a JSON object with Content-Type application/json.")
    if first.kind == "missing":
        return missing_parameter(first.param)
    return invalid_parameter(first.param, detail)


def forbidden(message: str, action: str, principal: Principal | None) -> AidocError:
    """403 ``Forbidden.RAM`` with the access-denied detail Alibaba's error bodies carry."""
    detail: dict[str, Any] = {"AuthAction": action, "NoPermissionType": "ImplicitDeny"}
    if principal is not None:
        service = principal.kind is CredentialKind.SERVICE
        detail |= {
            "AuthPrincipalType": "ServiceCredential" if service else "UserCredential",
            "AuthPrincipalDisplayName": principal.credential_id,
            "AuthPrincipalOwnerId": principal.tenant_name,
        }
    return AidocError(
        "Forbidden.RAM",
        f"User not authorized to operate on the specified resource ({action}): {message}",
        403,
        access_denied_detail=detail,
    )
