"""What every entry point shares: the engine, the unit of work, the core's configuration.

The web app, the CLI, the benchmark, background workers and the tests all take their
plumbing from here, never from ``api/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chatkeep.core.access_key_cipher import AccessKeyCipher
from chatkeep.core.answering.lifecycle import AnswerEngine
from chatkeep.core.answering.ports import LLM, Retriever
from chatkeep.core.answering.records import AnswerConfig
from chatkeep.core.cursor import CursorCodec
from chatkeep.core.document_links import DocumentLinkSigner
from chatkeep.core.knowledge.retrieval import retrieve
from chatkeep.core.uow import CoreConfig, UnitOfWork
from chatkeep.db.engine import create_engine, create_sessionmaker, snapshot_reads, writer_engine
from chatkeep.providers import build_llm
from chatkeep.ratelimit import RateLimiter
from chatkeep.settings import Settings


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    reads: async_sessionmaker[Any]
    writes: async_sessionmaker[Any]
    writer: AsyncEngine  # what ``writes`` runs on: on SQLite one connection, the write queue
    config: CoreConfig
    rate_limiter: RateLimiter | None  # None: CHATKEEP_RATE_LIMIT_REQUESTS=0
    links: DocumentLinkSigner  # the signed document URLs the vendor dialects hand out

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = create_engine(settings)
        writer = writer_engine(engine, settings)
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
            writes=create_sessionmaker(writer),
            writer=writer,
            config=CoreConfig(
                cursors=CursorCodec(server_key),
                max_message_bytes=settings.max_message_bytes,
                access_key_cipher=AccessKeyCipher(server_key),
            ),
            rate_limiter=limiter,
            links=DocumentLinkSigner(server_key),
        )


@asynccontextmanager
async def unit_of_work(runtime: Runtime, *, write: bool) -> AsyncIterator[UnitOfWork]:
    """One transaction: committed if the block succeeds, rolled back if it raises."""
    maker = runtime.writes if write else runtime.reads
    async with maker() as db:
        try:
            yield UnitOfWork(db, runtime.config)
        except BaseException:
            await db.rollback()
            raise
        await db.commit()


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
