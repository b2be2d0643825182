"""Request dependencies as ``Annotated`` aliases, so a handler's signature says what it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from chatkeep.core.uow import UnitOfWork
from chatkeep.runtime import Runtime, unit_of_work

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_READS_ONLY = "__chatkeep_reads_only__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_only(
    *, unless: Callable[[Request], bool] = lambda _request: False
) -> Callable[[Endpoint], Endpoint]:
    """Mark an endpoint that only reads although its method is not a safe one (the AI-doc
    lists are POSTs): its request runs in a read transaction, which on SQLite is a plain
    BEGIN instead of holding the database's one write lock for a read.

    ``unless(request)`` names requests that still write while authenticating (an AK/SK
    signature records its nonce): those keep a write transaction, so the nonce is
    recorded, and refused when replayed, exactly as on any other route. This holds for a
    marked GET too (AI-doc's DetailDocument): an unmarked GET is always a read. Put this
    decorator below the route decorator.
    """

    def mark(endpoint: Endpoint) -> Endpoint:
        setattr(endpoint, _READS_ONLY, unless)
        return endpoint

    return mark


def request_writes(request: Request) -> bool:
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    unless: Callable[[Request], bool] | None = getattr(endpoint, _READS_ONLY, None)
    if unless is not None:  # a marked GET too: an AK/SK signature on it burns a nonce
        return unless(request)
    return request.method not in SAFE_METHODS


def app_state(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.chatkeep
    return runtime


async def request_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with unit_of_work(app_state(request), write=request_writes(request)) as uow:
        yield uow


# scope="function": the transaction commits when the handler returns, *before* the
# response is sent, so an acknowledged write is a committed one.
DbUnit = Annotated[UnitOfWork, Depends(request_unit_of_work, scope="function")]
