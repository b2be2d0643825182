"""The process's answer engine: owns generations, tails events, sweeps dead answers.

Generation runs as a task owned by the process, not by the request that asked, so a
client that disconnects does not stop it. Readers tail the answer's stored events: a
reader in the generating process is woken at once after each write; one in any other
worker polls every ``poll_seconds``. Memory per reader is one page of events, whatever
its speed: a slow reader just reads from the database later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator
from uuid import UUID

from chatkeep.core.answering import service
from chatkeep.core.answering.generation import Generation, Job
from chatkeep.core.answering.ports import LLM, Retriever, UnitsOfWork
from chatkeep.core.answering.records import AnswerConfig, AnswerEvent, AnswerRecord, AskRequest
from chatkeep.core.answering.sweeper import sweep_expired
from chatkeep.core.types import Principal

log = logging.getLogger("chatkeep.answers")
EVENT_PAGE = 200


class AnswerEngine:
    def __init__(
        self, units: UnitsOfWork, llm: LLM | None, retriever: Retriever, config: AnswerConfig
    ) -> None:
        self.units, self.llm, self.retriever, self.config = units, llm, retriever, config
        # Names this process in leases: host, pid and a random part (pids are reused).
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._generations: dict[UUID, Generation] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._signals: dict[UUID, asyncio.Event] = {}
        self._sweeper: asyncio.Task[None] | None = None

    # --- asking -------------------------------------------------------------------------

    async def ask(self, principal: Principal, ask: AskRequest) -> AnswerRecord:
        """Store the question, start generating (unless replayed); the answer as opened."""
        async with self.units(write=True) as uow:
            opened = await service.open_answer(uow, principal, ask, self.config, self.owner)
        if not opened.replayed:
            self._spawn(Job(principal, opened.answer, opened.session, opened.question,
                            opened.document_ids))  # fmt: skip
        return opened.answer

    async def regenerate(self, principal: Principal, answer_id: UUID) -> AnswerRecord:
        async with self.units(write=True) as uow:
            opened = await service.open_regeneration(
                uow, principal, answer_id, self.config, self.owner
            )
        self._spawn(Job(principal, opened.answer, opened.session, opened.question,
                        opened.document_ids))  # fmt: skip
        return opened.answer

    def _spawn(self, job: Job) -> None:
        generation = Generation(
            self.units, self.llm, self.retriever, self.config, self.owner, self.notify
        )
        self._generations[job.answer.id] = generation
        task = asyncio.create_task(generation.run(job), name=f"answer-{job.answer.id}")
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._generations.pop(job.answer.id, None)
            self.notify(job.answer.id)

        task.add_done_callback(done)

    # --- reading and cancelling ---------------------------------------------------------

    async def get(self, principal: Principal, answer_id: UUID) -> AnswerRecord:
        async with self.units(write=False) as uow:
            return await service.get_answer(uow, principal, answer_id)

    async def cancel(self, principal: Principal, answer_id: UUID) -> AnswerRecord:
        """Flag the answer (seen by its generator in whichever worker runs it), then wait a
        little for it to stop, so the caller usually gets the ``cancelled`` answer."""
        async with self.units(write=True) as uow:
            await service.request_cancel(uow, principal, answer_id)
        local = self._generations.get(answer_id)
        if local is not None:
            local.cancel()
        wait = self.config.heartbeat_seconds * 2 + 1
        async for event in self.tail_events(principal.tenant_id, answer_id, 0, give_up_after=wait):
            del event
        return await self.get(principal, answer_id)

    async def wait_finished(self, principal: Principal, answer_id: UUID) -> AnswerRecord:
        async for _event in self.tail_events(principal.tenant_id, answer_id, 0):
            pass
        return await self.get(principal, answer_id)

    async def tail_events(
        self, tenant_id: int, answer_id: UUID, after: int, *, give_up_after: float | None = None
    ) -> AsyncIterator[AnswerEvent]:
        """The answer's events after ``after``, then live ones up to the terminal event (or
        until ``give_up_after`` seconds pass). Check access first (``get``)."""
        try:
            async for event in self._tail(tenant_id, answer_id, after, give_up_after):
                yield event
        finally:
            signal = self._signals.get(answer_id)
            if signal is not None and answer_id not in self._generations:
                del self._signals[answer_id]  # nothing here will set it: do not keep it

    async def _tail(
        self, tenant_id: int, answer_id: UUID, after: int, give_up_after: float | None
    ) -> AsyncIterator[AnswerEvent]:
        loop = asyncio.get_running_loop()
        deadline = None if give_up_after is None else loop.time() + give_up_after
        while deadline is None or loop.time() < deadline:
            signal = self._signals.setdefault(answer_id, asyncio.Event())
            async with self.units(write=False) as uow:
                page = await service.events_after(uow, tenant_id, answer_id, after, EVENT_PAGE)
            for event in page:
                yield event
                after = event.id
                if event.terminal:
                    return
            if len(page) == EVENT_PAGE:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), self.config.poll_seconds)

    def notify(self, answer_id: UUID) -> None:
        """Wake this process's readers of the answer (after a committed write)."""
        signal = self._signals.pop(answer_id, None)
        if signal is not None:
            signal.set()

    # --- the process's lifetime ---------------------------------------------------------

    def start(self) -> None:
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="answer-sweeper")

    async def stop(self) -> None:
        """Stop sweeping; running answers end ``incomplete`` (a restart cannot resume them)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def sweep_once(self) -> int:
        return await sweep_expired(self.units, skip=set(self._generations))

    async def _sweep_forever(self) -> None:
        while True:
            # Jittered, so several workers do not all sweep at the same instant.
            await asyncio.sleep(self.config.lease_seconds * random.uniform(0.4, 0.6))
            try:
                swept = await self.sweep_once()
                if swept:
                    log.warning("marked %d answers incomplete (their process stopped)", swept)
            except Exception:  # a database outage must not end the sweeper for good
                log.exception("answer sweep failed")
