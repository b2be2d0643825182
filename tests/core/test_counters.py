"""Maintained counters equal what COUNT(*) over the rows says, under concurrency too."""

from __future__ import annotations

import uuid
from typing import Any

import anyio
import pytest
import sqlalchemy as sa

from chatkeep.core import domains, messages, sessions, tenants
from chatkeep.core.models import ChatSession, Message, SessionCount
from chatkeep.core.qa_pairs import pair_messages
from chatkeep.core.repository.counters import rebuild_counters
from chatkeep.core.types import (
    MessageListQuery,
    NewMessage,
    Principal,
    SessionChanges,
    SessionFilter,
)
from chatkeep.core.uow import UnitOfWork
from tests.factories import World

pytestmark = pytest.mark.anyio


async def _true_counts(world: World, tenant_id: int) -> dict[tuple[int, bool, uuid.UUID], int]:
    async def work(uow: UnitOfWork) -> dict[tuple[int, bool, uuid.UUID], int]:
        s = ChatSession
        rows = await uow.db.execute(
            sa.select(s.user_pk, s.archived, s.domain_id, sa.func.count())
            .where(s.tenant_id == tenant_id)
            .group_by(s.user_pk, s.archived, s.domain_id)
        )
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    found: dict[tuple[int, bool, uuid.UUID], int] = await world.run(work, write=False)
    return found


async def _kept_counts(world: World, tenant_id: int) -> dict[tuple[int, bool, uuid.UUID], int]:
    async def work(uow: UnitOfWork) -> dict[tuple[int, bool, uuid.UUID], int]:
        c = SessionCount
        rows = await uow.db.execute(
            sa.select(c.user_pk, c.archived, c.domain_id, c.sessions).where(
                c.tenant_id == tenant_id, c.sessions != 0
            )
        )
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    found: dict[tuple[int, bool, uuid.UUID], int] = await world.run(work, write=False)
    return found


async def _count(world: World, principal: Principal, **flt: Any) -> int:
    result: int = await world.run(
        lambda uow: sessions.count_sessions(uow, principal, SessionFilter(**flt)), write=False
    )
    return result


async def test_concurrent_creates_deletes_and_moves_keep_counts_exact(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    principal = await world.principal(key)
    other = await world.domain(tenant, "other")
    existing = [await world.session(key, title=f"s{n}") for n in range(12)]

    async def create(n: int) -> None:
        await world.session(key, title=f"new {n}", domain_id=other.id if n % 2 else None)

    async def delete(ref: uuid.UUID) -> None:
        await world.run(lambda uow: sessions.delete_session(uow, principal, ref))

    async def change(ref: uuid.UUID, changes: SessionChanges) -> None:
        await world.run(lambda uow: sessions.update_session(uow, principal, ref, changes))

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(create, n)
        for s in existing[:4]:
            tg.start_soon(delete, s.uuid)
        for s in existing[4:8]:  # each archived twice at once: must count once
            tg.start_soon(change, s.uuid, SessionChanges(archived=True))
            tg.start_soon(change, s.uuid, SessionChanges(archived=True))
        for s in existing[8:12]:
            tg.start_soon(change, s.uuid, SessionChanges(domain_id=other.id, archived=True))
            tg.start_soon(change, s.uuid, SessionChanges(archived=False))

    truth = await _true_counts(world, principal.tenant_id)
    assert await _kept_counts(world, principal.tenant_id) == truth
    assert sum(truth.values()) == 12 + 10 - 4
    active = sum(n for (_, archived, _), n in truth.items() if not archived)
    assert await _count(world, principal) == active
    in_other = sum(n for (_, a, d), n in truth.items() if not a and d == other.id)
    assert await _count(world, principal, domain_id=other.id) == in_other
    assert await _count(world, principal, archived=None) == 18


async def test_deleting_a_domain_with_its_sessions_drops_their_counts(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    principal = await world.principal(key)
    doomed = await world.domain(tenant, "doomed")
    for n in range(3):
        await world.session(key, title=f"d{n}", domain_id=doomed.id)
    await world.session(key, title="kept")

    async def drop(uow: UnitOfWork) -> None:
        operator = tenants.operator_principal(await tenants.tenant_named(uow, tenant))
        await domains.delete_domain(uow, operator, doomed.id, cascade=True)

    await world.run(drop)

    assert await _count(world, principal) == 1
    assert await _kept_counts(world, principal.tenant_id) == await _true_counts(
        world, principal.tenant_id
    )


async def _append(world: World, principal: Principal, ref: uuid.UUID, role: str, text: str) -> None:
    new = NewMessage(role, text)
    await world.run(lambda uow: messages.append_message(uow, principal, ref, new))


# Role sequences and the Q&A pairs docs/aidoc.md's pairing makes of them.
CONVERSATIONS: list[tuple[str, ...]] = [
    (),
    ("user",),
    ("assistant",),
    ("assistant", "assistant", "user", "assistant"),
    ("system", "tool", "assistant", "user"),
    ("user", "assistant", "tool", "user", "user", "assistant", "system"),
    ("system", "tool"),
]


async def test_qa_pair_count_matches_the_documented_pairing(world: World) -> None:
    key = await world.key(await world.tenant())
    principal = await world.principal(key)
    for roles in CONVERSATIONS:
        session = await world.session(key, title=" ".join(roles))
        for n, role in enumerate(roles):
            await _append(world, principal, session.uuid, role, f"{role} {n}")

        query = MessageListQuery(session.uuid, limit=100)
        page = await world.run(
            lambda uow, q=query: messages.list_messages(uow, principal, q), write=False
        )
        after = await world.run(
            lambda uow, s=session: sessions.get_session(uow, principal, s.uuid), write=False
        )
        assert (roles, after.qa_pair_count) == (roles, len(pair_messages(page.items)))


async def test_rebuild_counters_repairs_rows_written_behind_the_services(world: World) -> None:
    """What the benchmark's bulk loader does: insert rows directly, then rebuild."""
    tenant = await world.tenant()
    key = await world.key(tenant)
    principal = await world.principal(key)
    template = await world.session(key, title="template")
    questions = ("assistant", "user", "assistant", "user")

    async def bulk(uow: UnitOfWork) -> None:
        s = ChatSession
        source = (await uow.db.execute(sa.select(s).where(s.id == template.id))).scalar_one()
        made = []
        for n in range(30):
            row = {
                c.key: getattr(source, c.key)
                for c in sa.inspect(s).column_attrs
                if c.columns[0].computed is None  # the database fills title_folded
            }
            row.update(id=None, uuid=uuid.uuid4(), title=f"bulk {n}", archived=n % 3 == 0,
                       message_count=99, qa_pair_count=99)  # fmt: skip
            made.append(row)
        ids = (await uow.db.execute(sa.insert(s).returning(s.id), made)).scalars().all()
        await uow.db.execute(
            sa.insert(Message),
            [
                {"tenant_id": principal.tenant_id, "user_pk": principal.user_pk,
                 "session_id": sid, "role": role, "content": role,
                 "created_at": template.created_at, "metadata": {}}
                for sid in ids[:5] for role in questions
            ],
        )  # fmt: skip

    await world.run(bulk)
    await world.run(lambda uow: rebuild_counters(uow.db, principal.tenant_id))

    truth = await _true_counts(world, principal.tenant_id)
    assert await _kept_counts(world, principal.tenant_id) == truth
    assert await _count(world, principal) == 1 + 20

    async def message_counters(uow: UnitOfWork) -> list[tuple[int, int]]:
        s = ChatSession
        found = await uow.db.execute(
            sa.select(s.message_count, s.qa_pair_count)
            .where(s.tenant_id == principal.tenant_id)
            .order_by(s.id)
        )
        return [(r[0], r[1]) for r in found]

    counted = await world.run(message_counters, write=False)
    assert counted == [(0, 0)] + [(4, 3)] * 5 + [(0, 0)] * 25
