"""The rate limit's request side: every dialect admits a request once it has authenticated it."""

from __future__ import annotations

from starlette.requests import Request

from chatkeep.core.types import Principal
from chatkeep.runtime import Runtime


async def admit(request: Request, principal: Principal) -> None:
    """Every dialect calls this once it has authenticated a request.

    Records the credential for the request log, then spends one unit of its budget, at
    most once per request: the fast lane admits a request before it writes, and may then
    still hand it to the full path (a session it does not find), which admits it again.
    """
    if getattr(request.state, "admitted", None) == principal.credential_id:
        return
    request.state.credential_id = principal.credential_id
    runtime: Runtime = request.app.state.chatkeep
    if runtime.rate_limiter is not None:
        await runtime.rate_limiter.hit(principal.credential_id)
    request.state.admitted = principal.credential_id  # (a refused one is refused again)
