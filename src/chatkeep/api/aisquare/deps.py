"""AISquare request parsing: credentials, the integer session id, shared parameters."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from chatkeep.api.credentials import authorization_token
from chatkeep.api.deps import DbUnit, app_state
from chatkeep.api.ratelimit import admit
from chatkeep.core.auth import authenticate_api_key
from chatkeep.core.errors import NotFound, Unauthenticated
from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.models import USER_ID_MAX
from chatkeep.core.types import Principal
from chatkeep.runtime import unit_of_work

# AISquare documents "Bearer <api key or access token>"; DRF's TokenAuthentication says "Token".
SCHEMES = ("bearer", "token")
_ID_MAX = 2**63 - 1  # the ids are 64-bit; a larger number names nothing
OFFSET_MAX = 2**31 - 1


async def aisquare_principal(request: Request, uow: DbUnit) -> Principal:
    header = request.headers.get("authorization")
    token = authorization_token(request, schemes=SCHEMES)
    if token is not None:
        principal = await authenticate_api_key(uow, token)
        await admit(request, principal)
        return principal
    if header and header.partition(" ")[0].lower() in SCHEMES:
        raise Unauthenticated("Invalid token header. No credentials provided.", reason="invalid")
    # DRF ignores a scheme it does not know, so the request counts as anonymous.
    raise Unauthenticated("Authentication credentials were not provided.", reason="missing")


CurrentPrincipal = Annotated[Principal, Depends(aisquare_principal)]


async def aisquare_principal_unheld(request: Request) -> Principal:
    """The principal, checked in a read transaction that has ended before the handler runs:
    for the chat stream, which then waits on the model (as the native ask does)."""
    async with unit_of_work(app_state(request), write=False) as uow:
        return await aisquare_principal(request, uow)


UnheldPrincipal = Annotated[Principal, Depends(aisquare_principal_unheld)]


def chat_session_id(session_id: str) -> int:
    """The path's integer id; anything else names no session (DRF's ``<int:pk>`` 404s)."""
    if not (session_id.isascii() and session_id.isdigit() and len(session_id) <= 19):
        raise NotFound("session")
    value = int(session_id)
    if not 0 < value <= _ID_MAX:
        raise NotFound("session")
    return value


ChatSessionId = Annotated[int, Depends(chat_session_id)]


def parse_uuid(value: Any) -> uuid.UUID | None:
    """A UUID with DRF's message; an empty query value means "no filter", as in django-filter."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise PydanticCustomError("uuid_parsing", "Must be a valid UUID.")


WireUUID = Annotated[uuid.UUID | None, BeforeValidator(parse_uuid)]

UserIdParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=USER_ID_MAX,
        description="chatkeep extension, service credentials only: act for this user.",
    ),
]
LimitParam = Annotated[
    int | None,
    Query(ge=1, le=PAGE_MAX, description="chatkeep extension: at most this many sessions."),
]
OffsetParam = Annotated[
    int | None,
    Query(ge=0, le=OFFSET_MAX, description="chatkeep extension: skip this many sessions."),
]
