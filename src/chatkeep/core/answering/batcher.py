"""Group commit for the answers a process is generating.

Every running answer writes a batch of text about ten times a second. One transaction per
write would cost one commit (an fsync on SQLite, which also has a single write lock) per
answer per batch: 200 streams would need 2,000 commits a second. Instead every write
waiting at the moment joins one transaction, each in its own savepoint (so one failing
write does not undo the others); the next transaction starts as soon as the previous one
committed, so an idle process adds no delay and a busy one commits a few times a second
whatever the number of streams.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from chatkeep.core.answering.ports import UnitsOfWork
from chatkeep.core.uow import UnitOfWork

T = TypeVar("T")
Write = Callable[[UnitOfWork], Awaitable[Any]]


class WriteBatcher:
    def __init__(self, units: UnitsOfWork) -> None:
        self._units = units
        self._queue: list[tuple[Write, asyncio.Future[Any]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: list[tuple[Write, asyncio.Future[Any]]] = []
        self.commits = 0  # transactions committed (the benchmark reports writes per answer)

    async def write(self, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        """Run ``work`` in the next shared transaction; its result once that committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="answer-writes")
        # Shielded: a caller cancelled while waiting does not un-queue a write already
        # joined to a transaction; it only stops waiting for it.
        return await asyncio.shield(future)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for _work, future in self._inflight + self._queue:
            if not future.done():
                future.set_exception(RuntimeError("the answer writer has stopped"))
        self._inflight, self._queue = [], []

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._inflight, self._queue = self._queue, []
            if self._inflight:
                await self._commit(self._inflight)
            self._inflight = []

    async def _commit(self, batch: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            async with self._units(write=True) as uow:
                for work, future in batch:
                    try:
                        async with uow.db.begin_nested():
                            outcomes.append((future, await work(uow), None))
                    except Exception as exc:
                        outcomes.append((future, None, exc))
        except Exception as exc:  # the commit itself failed: every write in it did
            for _work, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.commits += 1
        for future, result, error in outcomes:
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)
