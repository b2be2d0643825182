"""Concurrent writers through the core: counters stay exact, idempotency holds."""

from __future__ import annotations

import anyio
import pytest

from chatkeep.core import messages, sessions
from chatkeep.core.types import MessageListQuery, NewMessage
from chatkeep.core.uow import UnitOfWork
from tests.factories import World

pytestmark = pytest.mark.anyio


async def test_concurrent_appends_keep_the_count_exact(world: World) -> None:
    key = await world.key(await world.tenant())
    principal = await world.principal(key)
    session = await world.session(key, title="busy")

    async def append(n: int) -> None:
        async def work(uow: UnitOfWork) -> None:
            await messages.append_message(uow, principal, session.uuid, NewMessage("user", f"m{n}"))

        await world.run(work)

    async with anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(append, n)

    after = await world.run(lambda uow: sessions.get_session(uow, principal, session.uuid))
    assert after.message_count == 20
    page = await world.run(
        lambda uow: messages.list_messages(
            uow, principal, MessageListQuery(session.uuid, limit=100)
        )
    )
    assert sorted(m.content for m in page.items) == sorted(f"m{n}" for n in range(20))
    assert after.last_message_at == max(m.created_at for m in page.items)


async def test_concurrent_retries_with_one_key_append_once(world: World) -> None:
    key = await world.key(await world.tenant())
    principal = await world.principal(key)
    session = await world.session(key, title="retries")
    results = []

    async def retry() -> None:
        new = NewMessage("user", "once", idempotency_key="same-key")
        result = await world.run(
            lambda uow: messages.append_message(uow, principal, session.uuid, new)
        )
        results.append(result)

    async with anyio.create_task_group() as tg:
        for _ in range(6):
            tg.start_soon(retry)

    assert len({r.message.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    after = await world.run(lambda uow: sessions.get_session(uow, principal, session.uuid))
    assert after.message_count == 1
