"""Generating one answer, outside every transaction, persisted as it grows.

Retrieval and the prompt's reads run in one short read transaction; the model streams
with no transaction open; text is written in batches (at most ``flush_seconds`` or
``flush_chars`` apart, the first token at once), each batch one short write that also
renews the lease. A watcher renews the lease while the model is silent and notices a
cancel flag set by any worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from uuid import UUID

from chatkeep.core.answering import events, history
from chatkeep.core.answering.ports import (
    LLM,
    ChatMessage,
    Finished,
    LLMEvent,
    Retriever,
    UnitsOfWork,
)
from chatkeep.core.answering.prompts import build_prompt, fit_passages
from chatkeep.core.answering.records import AnswerConfig, AnswerRecord
from chatkeep.core.answering.writer import AnswerWriter
from chatkeep.core.errors import ChatkeepError, ProviderError
from chatkeep.core.knowledge.retrieval import RetrievalQuery
from chatkeep.core.types import Principal, Scope, SessionRecord

log = logging.getLogger("chatkeep.answers")


@dataclasses.dataclass(frozen=True, slots=True)
class Job:
    principal: Principal
    answer: AnswerRecord
    session: SessionRecord
    question: str
    document_ids: Sequence[UUID] | None


class Generation:
    """One running answer in this process; ``cancel()`` stops it (status ``cancelled``)."""

    def __init__(
        self,
        units: UnitsOfWork,
        llm: LLM | None,
        retriever: Retriever,
        config: AnswerConfig,
        owner: str,
        notify: Callable[[UUID], None],
    ) -> None:
        self._units, self._llm, self._retriever = units, llm, retriever
        self._config, self._owner, self._notify = config, owner, notify
        self._consumer: asyncio.Task[Finished | None] | None = None
        self._cancel_requested = False
        self._lost = False
        self._writing = False

    def cancel(self) -> None:
        self._cancel_requested = True
        self._interrupt()

    def _interrupt(self) -> None:
        # Interrupt a wait on the model at once, but never a database write in flight:
        # the consumer stops by itself right after that write.
        if self._consumer is not None and not self._writing:
            self._consumer.cancel()

    async def run(self, job: Job) -> None:
        writer = AnswerWriter(self._units, job.principal.tenant_id, job.answer, self._owner,
                              self._config, lambda: self._notify(job.answer.id))  # fmt: skip
        try:
            messages = await self._prepare(job, writer)
            if messages is not None:
                await self._generate(messages, writer)
        except asyncio.CancelledError:  # the process is shutting down, not a user's cancel
            await asyncio.shield(writer.finish("incomplete", reason="the server shut down"))
            raise
        except ProviderError as exc:
            await writer.finish("failed", reason=f"{exc.reason}: {exc.message}")
        except ChatkeepError as exc:
            await writer.finish("failed", reason=exc.message)
        except Exception as exc:  # never leave an answer running with no one generating it
            log.exception("answer %s failed", job.answer.id)
            await writer.finish("failed", reason=f"internal error ({type(exc).__name__})")

    async def _prepare(self, job: Job, writer: AnswerWriter) -> list[ChatMessage] | None:
        """Retrieve, store the references, build the prompt; None when already answered."""
        started = time.monotonic()
        # Asking in a session is allowed to read the session's own documents.
        scopes = job.principal.scopes | {Scope.DOCUMENTS_READ}
        reader = dataclasses.replace(job.principal, scopes=scopes)
        query = RetrievalQuery(
            text=job.question,
            domain_id=None if job.document_ids else job.session.domain_id,
            document_ids=job.document_ids or None,
            top_k=self._config.top_k,
        )
        async with self._units(write=False) as uow:
            chunks = await self._retriever(uow, reader, query)
            turns = await history.earlier_turns(
                uow, job.principal.tenant_id, job.answer, job.session
            )
        writer.timings["retrieval_ms"] = round((time.monotonic() - started) * 1000, 1)
        passages = fit_passages(chunks, self._config.passage_tokens)
        references = [events.reference_json(n, c) for n, c in enumerate(passages, start=1)]
        if not await writer.write_references(references):
            return None
        if not passages and self._config.require_passages:
            writer.add(self._config.no_passage_text)
            await writer.finish("complete")
            return None
        if self._llm is None:
            raise ProviderError("unavailable", "no LLM provider is configured")
        return build_prompt(
            job.question, passages, turns, system_context=job.session.system_context,
            history_tokens=self._config.history_tokens,
            passage_tokens=self._config.passage_tokens,
        )  # fmt: skip

    async def _generate(self, messages: list[ChatMessage], writer: AnswerWriter) -> None:
        assert self._llm is not None
        self._consumer = asyncio.create_task(self._consume(self._llm, messages, writer))
        watcher = asyncio.create_task(self._watch(writer))
        try:
            finished = await self._consumer
        except asyncio.CancelledError:
            if self._lost:
                return
            if not self._cancel_requested:
                raise
            await writer.finish("cancelled")
            return
        finally:
            watcher.cancel()
        if finished is None:  # lost the lease: someone else ended the answer
            return
        writer.model = finished.model or self._llm.model
        writer.usage = (finished.prompt_tokens, finished.completion_tokens)
        await writer.finish("complete")

    async def _consume(
        self, llm: LLM, messages: list[ChatMessage], writer: AnswerWriter
    ) -> Finished | None:
        """Buffer the model's text and write it when due; while the model is silent with
        text buffered, write it after ``flush_seconds`` anyway (no text waits on a stall)."""
        finished = Finished(model=None, prompt_tokens=None, completion_tokens=None,
                            finish_reason=None)  # fmt: skip
        stream = llm.stream(messages)
        upcoming: asyncio.Task[LLMEvent] | None = None
        try:
            while True:
                if upcoming is None:
                    upcoming = asyncio.ensure_future(anext(stream))
                wait = self._config.flush_seconds if writer.pending else None
                done, _ = await asyncio.wait({upcoming}, timeout=wait)
                if not done:
                    if not await self._flush(writer):
                        return None
                    continue
                try:
                    item = upcoming.result()
                except StopAsyncIteration:
                    return finished
                upcoming = None
                if isinstance(item, Finished):
                    finished = item
                    continue
                writer.add(item.text)
                if writer.due() and not await self._flush(writer):
                    return None
        finally:
            if upcoming is not None:
                upcoming.cancel()
            await _close(stream)

    async def _flush(self, writer: AnswerWriter) -> bool:
        self._writing = True
        try:
            written = await writer.flush()
        finally:
            self._writing = False
        if written and (self._cancel_requested or self._lost):
            raise asyncio.CancelledError  # asked to stop while writing: stop now
        return written

    async def _watch(self, writer: AnswerWriter) -> None:
        """Renew the lease while the model is silent; stop generating on a cancel flag."""
        while True:
            await asyncio.sleep(self._config.heartbeat_seconds)
            state = await writer.heartbeat()
            if state != "ok":
                self.cancel() if state == "cancel" else self._lose()

    def _lose(self) -> None:
        # Not ours any more (the sweeper took it): stop without writing anything.
        self._lost = True
        self._interrupt()


async def _close(stream: AsyncIterator[LLMEvent]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with contextlib.suppress(Exception):
            await aclose()
