"""Native authentication: ``Authorization: Bearer ck_...``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from chatkeep.api.credentials import authorization_token
from chatkeep.api.deps import DbUnit
from chatkeep.api.ratelimit import admit
from chatkeep.core.auth import authenticate_api_key
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.types import Principal


async def native_principal(request: Request, uow: DbUnit) -> Principal:
    token = authorization_token(request)
    if token is None:
        if request.headers.get("authorization"):
            raise Unauthenticated("Use the Bearer authorization scheme.", reason="invalid")
        raise Unauthenticated("Authentication credentials were not provided.", reason="missing")
    principal = await authenticate_api_key(uow, token)
    await admit(request, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(native_principal)]
