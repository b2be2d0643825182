"""Offset pages (AI-doc, AISquare limit/offset) equal slices of the whole ordered list.

The service skips by position in the order's index (a deferred join, or a seek to the
sort key at the offset); these check it returns exactly the rows a naive OFFSET would.
"""

from __future__ import annotations

from typing import Any

import pytest

from chatkeep.core import messages, sessions
from chatkeep.core.types import (
    NewMessage,
    Principal,
    SessionChanges,
    SessionFilter,
    SessionListQuery,
    SessionOrder,
)
from chatkeep.core.uow import UnitOfWork
from tests.factories import World

pytestmark = pytest.mark.anyio

SESSIONS = 23


async def _positional(
    world: World, principal: Principal, flt: SessionFilter, order: SessionOrder, **page: Any
) -> list[int]:
    async def work(uow: UnitOfWork) -> list[int]:
        return [s.id async for s in sessions.stream_sessions(uow, principal, flt, order, **page)]

    found: list[int] = await world.run(work, write=False)
    return found


async def _everything(
    world: World, principal: Principal, flt: SessionFilter, order: SessionOrder
) -> list[int]:
    """The whole list, walked by keyset cursors (the path the plan tests pin down)."""
    ids: list[int] = []
    cursor = None
    while True:
        query = SessionListQuery(flt, order, limit=5, cursor=cursor)
        page = await world.run(
            lambda uow, q=query: sessions.list_sessions(uow, principal, q), write=False
        )
        ids += [s.id for s in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


async def test_offset_pages_are_slices_of_the_ordered_list(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    principal = await world.principal(key)
    other = await world.domain(tenant, "other")
    for n in range(SESSIONS):
        created = await world.session(
            key, title=f"{'Budget' if n % 3 else 'misc'} {n}", domain_id=other.id if n % 2 else None
        )
        changes = SessionChanges(is_pinned=n % 7 == 0 or None, archived=n % 5 == 0 or None)
        await world.run(lambda uow, c=created, ch=changes: sessions.update_session(
            uow, principal, c.uuid, ch))  # fmt: skip
        if n % 4 == 0:  # moves it up the recent and -updated orders
            new = NewMessage("user", "hi")
            await world.run(lambda uow, c=created, m=new: messages.append_message(
                uow, principal, c.uuid, m))  # fmt: skip

    filters = [SessionFilter(), SessionFilter(domain_id=other.id), SessionFilter(q="budget")]
    for order in (SessionOrder.RECENT, SessionOrder.UPDATED_DESC):
        for flt in filters:
            everything = await _everything(world, principal, flt, order)
            assert 5 < len(everything) < SESSIONS
            for offset in (0, 1, 4, len(everything) - 1, len(everything), len(everything) + 3):
                sliced = everything[offset:]
                assert await _positional(world, principal, flt, order, offset=offset) == sliced
                for limit in (1, 3, 100):
                    got = await _positional(
                        world, principal, flt, order, offset=offset, limit=limit
                    )
                    assert got == sliced[:limit], (order, flt, offset, limit)
                    numbered = await world.run(
                        lambda uow, f=flt, o=order, n=offset, k=limit: sessions.page_sessions(
                            uow, principal, f, o, offset=n, limit=k
                        ),
                        write=False,
                    )
                    assert [s.id for s in numbered.items] == sliced[:limit]
                    assert numbered.total == len(everything)
