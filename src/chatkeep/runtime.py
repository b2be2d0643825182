"""What every entry point shares: the engine, the unit of work, the core's configuration.

The web app, the CLI, the benchmark, background workers and the tests all take their
plumbing from here, never from ``api/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chatkeep.core.access_key_cipher import AccessKeyCipher
from chatkeep.core.answering.lifecycle import AnswerEngine
from chatkeep.core.answering.ports import LLM, Retriever
from chatkeep.core.answering.records import AnswerConfig
from chatkeep.core.cursor import CursorCodec
from chatkeep.core.document_links import DocumentLinkSigner
from chatkeep.core.knowledge.retrieval import retrieve
from chatkeep.core.uow import CoreConfig, UnitOfWork
from chatkeep.db.engine import SQLITE_WRITE, create_engine, create_sessionmaker, snapshot_reads
from chatkeep.providers import build_llm
from chatkeep.ratelimit import RateLimiter
from chatkeep.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    reads: async_sessionmaker[Any]
    writes: async_sessionmaker[Any]
    config: CoreConfig
    rate_limiter: RateLimiter | None  # None: CHATKEEP_RATE_LIMIT_REQUESTS=0
    links: DocumentLinkSigner  # the signed document URLs the vendor dialects hand out
    write_gate: WriteGate | None  # SQLite: write transactions queue in-process

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        server_key = settings.resolved_secret_key()
        limiter = None
        if settings.rate_limit_requests:
            limiter = RateLimiter(
                settings.database_url,
                limit=settings.rate_limit_requests,
                window_seconds=settings.rate_limit_window_seconds,
            )
            limiter.dispose_with(engine)
        return cls(
            settings=settings,
            engine=engine,
            reads=create_sessionmaker(snapshot_reads(engine)),
            writes=create_sessionmaker(engine.execution_options(**{SQLITE_WRITE: True})),
            config=CoreConfig(
                cursors=CursorCodec(server_key),
                max_message_bytes=settings.max_message_bytes,
                access_key_cipher=AccessKeyCipher(server_key),
            ),
            rate_limiter=limiter,
            links=DocumentLinkSigner(server_key),
            write_gate=WriteGate() if engine.dialect.name == "sqlite" else None,
        )


@asynccontextmanager
async def unit_of_work(runtime: Runtime, *, write: bool) -> AsyncIterator[UnitOfWork]:
    """One transaction: committed if the block succeeds, rolled back if it raises."""
    if write and runtime.write_gate is not None:
        async with runtime.write_gate.held(), _transaction(runtime.writes, runtime.config) as uow:
            yield uow
        return
    async with _transaction(runtime.writes if write else runtime.reads, runtime.config) as uow:
        yield uow


@asynccontextmanager
async def _transaction(
    maker: async_sessionmaker[Any], config: CoreConfig
) -> AsyncIterator[UnitOfWork]:
    async with maker() as db:
        try:
            yield UnitOfWork(db, config)
        except BaseException:
            await db.rollback()
            raise
        await db.commit()


class WriteGate:
    """SQLite's one write lock, queued for in this process instead of polled for.

    Two write transactions of one process on different connections collide on the lock,
    and the loser's busy handler sleeps (1, 2, 5, 10 ms...) and retries while the winner,
    whose statements each wait for the event loop, still holds it: under concurrent
    appends the process sat idle half the time (docs/decisions.md). Waiting here in
    arrival order instead costs nothing the lock did not already serialise; other
    processes (``--workers N``, the CLI) still meet at the lock and its busy timeout.
    """

    def __init__(self) -> None:
        self._locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            WeakKeyDictionary()
        )

    def held(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:  # one per event loop (tests and the CLI run several)
            lock = self._locks[loop] = asyncio.Lock()
        return lock


def build_answer_engine(
    runtime: Runtime, *, llm: LLM | None = None, retriever: Retriever | None = None
) -> AnswerEngine:
    """The process's answer engine over ``runtime``: the configured provider unless ``llm``
    is given, the knowledge area's retrieval unless ``retriever`` is."""

    def units(*, write: bool) -> AbstractAsyncContextManager[UnitOfWork]:
        return unit_of_work(runtime, write=write)

    return AnswerEngine(
        units,
        llm if llm is not None else build_llm(runtime.settings),
        retriever or retrieve,
        AnswerConfig.of(runtime.settings),
    )
