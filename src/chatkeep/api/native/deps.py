"""Native authentication: ``Authorization: Bearer ck_...``, or the web UI's session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from chatkeep.api.credentials import authorization_token
from chatkeep.api.deps import DbUnit, app_state
from chatkeep.api.ratelimit import admit
from chatkeep.api.web_session import check_csrf, session_cookie
from chatkeep.core.auth import authenticate_api_key
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.types import Principal
from chatkeep.core.web_sessions import authenticate_web_session
from chatkeep.runtime import unit_of_work


async def native_principal(request: Request, uow: DbUnit) -> Principal:
    token = authorization_token(request)
    if token is not None:
        principal = await authenticate_api_key(uow, token)
    elif request.headers.get("authorization"):
        raise Unauthenticated("Use the Bearer authorization scheme.", reason="invalid")
    elif (cookie := session_cookie(request)) is not None:
        # The browser UI: an HttpOnly session cookie, CSRF-checked on every write.
        check_csrf(request, cookie)
        principal = await authenticate_web_session(uow, cookie)
    else:
        raise Unauthenticated("Authentication credentials were not provided.", reason="missing")
    await admit(request, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(native_principal)]


async def native_principal_unheld(request: Request) -> Principal:
    """The principal, checked in its own short read transaction that has ended before the
    handler runs: for handlers that then wait on the outside world (answers), so a request
    never holds a second pooled connection while it waits for a writer's."""
    async with unit_of_work(app_state(request), write=False) as uow:
        return await native_principal(request, uow)


# A principal with no transaction held (see above); the handler opens none itself.
UnheldPrincipal = Annotated[Principal, Depends(native_principal_unheld)]
