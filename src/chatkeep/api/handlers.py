"""Exception handlers: map every failure to a ``Problem`` and hand it to its dialect."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match

from chatkeep.api.outages import database_problem
from chatkeep.api.problems import DialectRouter, FieldError, Problem, ProblemKind
from chatkeep.core import errors

log = logging.getLogger("chatkeep.errors")

_CORE: list[tuple[type[errors.ChatkeepError], ProblemKind, int]] = [
    (errors.Unauthenticated, ProblemKind.UNAUTHENTICATED, 401),
    (errors.Forbidden, ProblemKind.FORBIDDEN, 403),
    (errors.NotFound, ProblemKind.NOT_FOUND, 404),
    (errors.IdempotencyMismatch, ProblemKind.INVALID, 422),
    (errors.Conflict, ProblemKind.CONFLICT, 409),
    (errors.InvalidArgument, ProblemKind.INVALID, 422),
    (errors.RateLimited, ProblemKind.THROTTLED, 429),
    (errors.TooLarge, ProblemKind.TOO_LARGE, 413),
    (errors.UnsupportedFormat, ProblemKind.UNSUPPORTED_MEDIA_TYPE, 415),
]

_HTTP: dict[int, ProblemKind] = {
    400: ProblemKind.MALFORMED,
    401: ProblemKind.UNAUTHENTICATED,
    403: ProblemKind.FORBIDDEN,
    404: ProblemKind.NOT_FOUND,
    405: ProblemKind.METHOD_NOT_ALLOWED,
    409: ProblemKind.CONFLICT,
    408: ProblemKind.TIMEOUT,
    413: ProblemKind.TOO_LARGE,
    415: ProblemKind.UNSUPPORTED_MEDIA_TYPE,
    503: ProblemKind.UNAVAILABLE,
}


def core_problem(exc: errors.ChatkeepError) -> Problem:
    for cls, kind, status in _CORE:
        if isinstance(exc, cls):
            return Problem(
                kind,
                exc.message,
                status,
                fields=[FieldError(exc.field, exc.detail)]
                if isinstance(exc, errors.InvalidArgument)
                else (),
                reason=getattr(exc, "reason", None),
                action=getattr(exc, "action", None),
                resource=exc.resource if isinstance(exc, errors.NotFound) else None,
                headers=_retry_after(exc),
            )
    return Problem(ProblemKind.INTERNAL, "Internal error.", 500)


def _retry_after(exc: errors.ChatkeepError) -> dict[str, str]:
    if isinstance(exc, errors.RateLimited):
        return {"Retry-After": str(exc.retry_after)}
    return {}


def validation_problem(exc: RequestValidationError) -> Problem:
    fields: list[FieldError] = []
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return Problem(ProblemKind.MALFORMED, "The request body is not valid JSON.", 400)
        raw = [str(part) for part in error.get("loc", ())]
        loc = [part for part in raw if part != "body"]
        fields.append(
            FieldError(
                ".".join(loc) or "body", _message(error), kind=error.get("type"),
                param=raw[1] if len(raw) > 1 else None,
            )
        )  # fmt: skip
    return Problem(ProblemKind.INVALID, "The request has invalid fields.", 422, fields=fields)


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "Invalid value."))
    if error.get("type") == "extra_forbidden":
        return "Unknown field."
    if error.get("type") == "missing":
        return "This field is required."
    return message


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path (Starlette names only the first route's)."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(allowed)


def install_handlers(app: FastAPI, dialects: DialectRouter) -> None:
    async def on_core(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, errors.ChatkeepError)
        return dialects.render(request, core_problem(exc))

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return dialects.render(request, validation_problem(exc))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        kind = _HTTP.get(exc.status_code, ProblemKind.MALFORMED)
        detail = exc.detail if isinstance(exc.detail, str) else "Request refused."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        return dialects.render(request, Problem(kind, detail, exc.status_code, headers=headers))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        outage = database_problem(exc)
        if outage is not None:
            return dialects.render(request, outage)
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return dialects.render(request, Problem(ProblemKind.INTERNAL, "Internal error.", 500))

    app.add_exception_handler(errors.ChatkeepError, on_core)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    # Registered for DBAPIError and OSError too, so database outages are answered by
    # ExceptionMiddleware like any handled error rather than re-raised by the server.
    app.add_exception_handler(DBAPIError, on_unexpected)
    app.add_exception_handler(OSError, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)
