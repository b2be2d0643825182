"""Request dependencies as ``Annotated`` aliases, so a handler's signature says what it needs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request

from chatkeep.api.state import AppState
from chatkeep.core.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.chatkeep
    return state


@asynccontextmanager
async def unit_of_work(state: AppState, *, write: bool) -> AsyncIterator[UnitOfWork]:
    """One transaction: committed if the block succeeds, rolled back if it raises."""
    maker = state.writes if write else state.reads
    async with maker() as db:
        try:
            yield UnitOfWork(db, state.config)
        except BaseException:
            await db.rollback()
            raise
        await db.commit()


async def request_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with unit_of_work(app_state(request), write=request.method not in SAFE_METHODS) as uow:
        yield uow


# scope="function": the transaction commits when the handler returns, *before* the
# response is sent, so an acknowledged write is a committed one.
DbUnit = Annotated[UnitOfWork, Depends(request_unit_of_work, scope="function")]
