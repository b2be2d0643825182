"""Core, validation and signature failures in Alibaba's terms (the table in docs/aidoc.md)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi.exceptions import RequestValidationError

from chatkeep.api.aidoc.errors import THROTTLED_MESSAGE, AidocError
from chatkeep.api.aidoc.signature import AcsAuthError
from chatkeep.core import errors
from chatkeep.core.types import CredentialKind, Principal

log = logging.getLogger("chatkeep.aidoc")

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

Translatable = errors.ChatkeepError | RequestValidationError | AcsAuthError | AidocError


def translate(exc: Translatable, action: str, principal: Principal | None) -> AidocError:
    """``action`` is the refused call's RAM action, e.g. ``energy:GetChatSessionList``."""
    if isinstance(exc, AidocError):
        return exc
    if isinstance(exc, AcsAuthError):
        return AidocError(exc.code, exc.message, exc.status)
    if isinstance(exc, RequestValidationError):
        return from_validation(exc)
    return from_core(exc, action, principal)


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


def from_validation(exc: RequestValidationError) -> AidocError:
    error: dict[str, Any] = exc.errors()[0]
    kind = error.get("type")
    loc = [str(part) for part in error.get("loc", ())]
    if kind == "json_invalid":
        return invalid_parameter("body", "the request body is not valid JSON.")
    if len(loc) < 2:  # the body itself: not an object, or not sent as JSON
        return invalid_parameter("body", "send a JSON object with Content-Type application/json.")
    field = loc[1]
    if kind == "missing":
        return missing_parameter(field)
    return invalid_parameter(field, f"{error.get('msg', 'invalid value')}.")


def from_core(exc: errors.ChatkeepError, action: str, principal: Principal | None) -> AidocError:
    if isinstance(exc, errors.InvalidArgument):
        return invalid_parameter(WIRE_FIELDS.get(exc.field, exc.field), f"{exc.detail}.")
    if isinstance(exc, errors.NotFound):
        code, message = NOT_FOUND.get(
            exc.resource, ("ResourceNotFound", f"The {exc.resource} does not exist.")
        )
        return AidocError(code, message, 404)
    if isinstance(exc, errors.Forbidden):
        return forbidden(exc, action, principal)
    if isinstance(exc, errors.Unauthenticated):
        return AidocError(UNAUTHENTICATED.get(exc.reason, "InvalidAuthorization"), exc.message, 401)
    if isinstance(exc, errors.Conflict):
        return AidocError("OperationConflict", exc.message, 409)
    if isinstance(exc, errors.RateLimited):
        # Alibaba's flow-control code and status; see errors._PROBLEM_CODES.
        retry = {"Retry-After": str(exc.retry_after)}
        return AidocError("Throttling.User", THROTTLED_MESSAGE, 400, headers=retry)
    log.error("untranslated core error %s: %s", type(exc).__name__, exc.message)
    return AidocError(
        "InternalError", "The request processing has failed due to some unknown error.", 500
    )


def forbidden(exc: errors.Forbidden, action: str, principal: Principal | None) -> AidocError:
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
        f"User not authorized to operate on the specified resource ({action}): {exc.message}",
        403,
        access_denied_detail=detail,
    )
