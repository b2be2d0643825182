"""Persisting a running answer: batched deltas, the lease, and its one terminal event.

Each write is one short transaction through ``repository.answers.advance``, which takes
the next event id only while the answer is still running and still ours; a write that
finds it otherwise reports ``False`` and the generator stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from chatkeep.core.answering import events
from chatkeep.core.answering.ports import UnitsOfWork
from chatkeep.core.answering.records import AnswerConfig, AnswerRecord
from chatkeep.core.clock import utcnow
from chatkeep.core.models import Answer
from chatkeep.core.repository import answers as rows
from chatkeep.core.uow import UnitOfWork


class AnswerWriter:
    def __init__(
        self,
        units: UnitsOfWork,
        tenant_id: int,
        answer: AnswerRecord,
        owner: str,
        config: AnswerConfig,
        notify: Callable[[], None],
    ) -> None:
        self._units, self._tenant, self._answer = units, tenant_id, answer
        self._owner, self._config, self._notify = owner, config, notify
        self.content = ""
        self._pending = ""
        self._last_flush = time.monotonic()
        self._started = time.monotonic()
        self._first_written = False
        self._finished = False
        self.references: list[dict[str, Any]] = []
        self.model: str | None = None
        self.usage: tuple[int | None, int | None] = (None, None)
        self.timings: dict[str, float] = {}

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def add(self, text: str) -> None:
        self._pending += text

    def due(self) -> bool:
        """Whether buffered text should be written now (the first token always is)."""
        if not self._pending:
            return False
        return (
            not self._first_written
            or len(self._pending) >= self._config.flush_chars
            or time.monotonic() - self._last_flush >= self._config.flush_seconds
        )

    async def write_references(self, references: list[dict[str, Any]]) -> bool:
        self.references = references
        async with self._units(write=True) as uow:
            data = events.dumps({"answer_id": str(self._answer.id), "references": references})
            ok = await self._event(uow, "references", data, {"references": references})
        self._after_write()
        return ok

    async def flush(self) -> bool:
        async with self._units(write=True) as uow:
            ok = await self._write_pending(uow)
        self._after_write()
        return ok

    async def heartbeat(self) -> str:
        """ "ok", "cancel" (a cancel flag is set) or "lost" (the answer is not ours any more)."""
        async with self._units(write=True) as uow:
            flag = await rows.renew_lease(
                uow.db, self._tenant, self._answer.id, self._owner, self._lease()
            )
        return "lost" if flag is None else ("cancel" if flag else "ok")

    async def finish(self, status: str, *, reason: str | None = None) -> None:
        """Write what is buffered and the terminal event, once; a lost answer is left alone."""
        if self._finished:
            return
        self._finished = True
        self.timings["total_ms"] = self._ms_since_start()
        async with self._units(write=True) as uow:
            if not await self._write_pending(uow):
                return
            changes: dict[str, Any] = {
                "status": status, "error": reason, "finished_at": utcnow(),
                "lease_owner": None, "lease_expires_at": None, "timings": self.timings,
                "references": events.mark_cited(self.references, self.content),
                "model": self.model, "prompt_tokens": self.usage[0],
                "completion_tokens": self.usage[1],
            }  # fmt: skip
            row = await rows.advance(
                uow.db, self._tenant, self._answer.id, owner=self._owner, changes=changes
            )
            if row is not None:
                await self._terminal_event(uow, row, status, reason)
        self._after_write()

    async def _terminal_event(
        self, uow: UnitOfWork, row: Answer, status: str, reason: str | None
    ) -> None:
        answer_id = str(row.id)
        if status in ("complete", "cancelled"):
            alternatives = await rows.answers_to_questions(
                uow.db, self._tenant, [row.question_message_id]
            )
            record = events.to_record(row, self._answer.session_id, self.content,
                                      alternatives.get(row.question_message_id))  # fmt: skip
            data = events.dumps({"answer_id": answer_id, "answer": events.answer_json(record)})
            type_ = "done"
        else:
            data = events.dumps({"answer_id": answer_id, "status": status, "reason": reason})
            type_ = "error"
        await rows.insert_event(uow.db, self._tenant, row.id, row.last_event_id, type_, data,
                                utcnow())  # fmt: skip

    async def _write_pending(self, uow: UnitOfWork) -> bool:
        if not self._pending:
            return True
        # State moves only once the write has committed: an interrupted write leaves the
        # text pending, to be written by the next one.
        text = self._pending
        changes: dict[str, Any] = {"lease_expires_at": self._lease()}
        if not self._first_written:
            changes["first_token_at"] = utcnow()
            self.timings["first_token_ms"] = self._ms_since_start()
        data = events.dumps({"answer_id": str(self._answer.id), "text": text})
        if not await self._event(uow, "delta", data, changes):
            return False
        await rows.set_message_content(uow.db, self._answer.message_id, self.content + text)
        self.content += text
        self._pending = self._pending[len(text) :]
        self._first_written = True
        return True

    async def _event(self, uow: UnitOfWork, type_: str, data: str, changes: dict[str, Any]) -> bool:
        row = await rows.advance(
            uow.db, self._tenant, self._answer.id, owner=self._owner, changes=changes
        )
        if row is None:
            return False
        await rows.insert_event(uow.db, self._tenant, row.id, row.last_event_id, type_, data,
                                utcnow())  # fmt: skip
        return True

    def _after_write(self) -> None:
        self._last_flush = time.monotonic()
        self._notify()

    def _lease(self) -> Any:
        return utcnow() + timedelta(seconds=self._config.lease_seconds)

    def _ms_since_start(self) -> float:
        return round((time.monotonic() - self._started) * 1000, 1)
