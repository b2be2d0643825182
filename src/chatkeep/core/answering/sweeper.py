"""Answers whose process died: a running answer whose lease ran out becomes ``incomplete``.

Its question and the text written so far stay; readers get an ``error`` event with status
``incomplete``. The conditional update in ``advance`` makes a sweep and a late write of
the (not quite dead) owner exclusive: one of them wins, the other sees it lost.
"""

from __future__ import annotations

from collections.abc import Set
from uuid import UUID

from chatkeep.core.answering import events
from chatkeep.core.answering.ports import UnitsOfWork
from chatkeep.core.clock import utcnow
from chatkeep.core.repository import answers as rows

INCOMPLETE_REASON = "the process generating this answer stopped before it finished"
BATCH = 100


async def sweep_expired(units: UnitsOfWork, *, skip: Set[UUID] = frozenset()) -> int:
    """Mark expired running answers incomplete; how many were marked."""
    async with units(write=False) as uow:
        expired = await rows.expired_running(uow.db, utcnow(), BATCH)
    marked = 0
    for tenant_id, answer_id in expired:
        if answer_id in skip:  # generated here, so alive: its lease is merely late
            continue
        async with units(write=True) as uow:
            now = utcnow()
            row = await rows.advance(uow.db, tenant_id, answer_id, owner=None, changes={
                "status": "incomplete", "error": INCOMPLETE_REASON, "finished_at": now,
                "lease_owner": None, "lease_expires_at": None,
            }, lease_expired_before=now)  # fmt: skip
            if row is None:
                continue
            data = events.dumps({
                "answer_id": str(answer_id), "status": "incomplete", "reason": INCOMPLETE_REASON,
            })  # fmt: skip
            await rows.insert_event(uow.db, tenant_id, answer_id, row.last_event_id, "error",
                                    data, now)  # fmt: skip
            marked += 1
    return marked
