"""AI-doc authentication: ACS3 signatures, the SDK's bearer mode, or a plain Bearer key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from chatkeep.api.aidoc.errors import AidocError, request_id
from chatkeep.api.aidoc.signature import authenticate_acs3
from chatkeep.api.deps import DbUnit
from chatkeep.api.ratelimit import admit
from chatkeep.core.auth import authenticate_api_key
from chatkeep.core.types import Principal
from chatkeep.core.uow import UnitOfWork

ACS3_SCHEME = "acs3-hmac-sha256"
BEARER_TOKEN_HEADER = "x-acs-bearer-token"  # what the SDK sends with Config(bearer_token=...)


async def aidoc_principal(request: Request, uow: DbUnit) -> Principal:
    principal = await _authenticate(request, uow)
    # Kept for the access-denied detail of a 403 raised later in the request.
    request.state.aidoc_principal = principal
    await admit(request, principal)
    return principal


async def _authenticate(request: Request, uow: UnitOfWork) -> Principal:
    """An ``Authorization`` header wins; without one, the SDK's bearer-token header."""
    authorization = request.headers.get("authorization", "").strip()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == ACS3_SCHEME:
        return await authenticate_acs3(request, uow)
    if scheme.lower() == "bearer" and token.strip():
        return await authenticate_api_key(uow, token.strip())
    if authorization:
        raise AidocError(
            "InvalidAuthorization",
            "Unsupported Authorization header: use ACS3-HMAC-SHA256 or Bearer <key>.",
            401,
        )
    bearer = request.headers.get(BEARER_TOKEN_HEADER, "").strip()
    if bearer:
        return await authenticate_api_key(uow, bearer)
    raise AidocError(
        "MissingAuthorization",
        "No credentials: sign the request (ACS3-HMAC-SHA256), or send an API key as "
        "x-acs-bearer-token or Authorization: Bearer.",
        401,
    )


def records_a_nonce(request: Request) -> bool:
    """Whether authenticating this request writes: an ACS3 signature burns its nonce."""
    scheme = request.headers.get("authorization", "").strip().partition(" ")[0]
    return scheme.lower() == ACS3_SCHEME


AidocPrincipal = Annotated[Principal, Depends(aidoc_principal)]
RequestId = Annotated[str, Depends(request_id)]
