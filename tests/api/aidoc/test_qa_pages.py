"""GetChatList pages read only their own messages yet equal slices of the full pairing."""

from __future__ import annotations

import pytest

from chatkeep.core import messages, sessions
from chatkeep.core.qa_pairs import pair_messages, qa_page
from chatkeep.core.types import MessageListQuery, NewMessage
from chatkeep.core.uow import UnitOfWork
from tests.factories import World

pytestmark = pytest.mark.anyio

# Leading answers, system/tool turns between pairs, several answers per question, and
# questions left unanswered: every shape the documented pairing has a rule for.
CONVERSATIONS: list[tuple[str, ...]] = [
    ("assistant", "system", "assistant", "user", "assistant", "user", "tool", "assistant",
     "user", "user", "assistant", "assistant", "system", "user"),
    ("system", "user", "assistant", "tool", "user", "assistant", "user", "assistant", "user"),
    ("tool", "system"),
]  # fmt: skip


@pytest.mark.parametrize(
    "roles", CONVERSATIONS, ids=["leading-answers", "system-first", "no-pairs"]
)
async def test_every_page_is_the_matching_slice_of_all_pairs(
    world: World, roles: tuple[str, ...]
) -> None:
    key = await world.key(await world.tenant())
    principal = await world.principal(key)
    created = await world.session(key, title="qa")
    for n, role in enumerate(roles):
        new = NewMessage(role, f"{role} {n}", {"references": [{"docName": f"d{n}"}]})
        await world.run(lambda uow, m=new: messages.append_message(uow, principal, created.uuid, m))
    everything = await world.run(
        lambda uow: messages.list_messages(
            uow, principal, MessageListQuery(created.uuid, limit=100)
        ),
        write=False,
    )
    expected = pair_messages(everything.items)

    async def page(uow: UnitOfWork, offset: int, limit: int) -> tuple[list[object], int]:
        session = await sessions.get_session(uow, principal, created.uuid)
        found = await qa_page(uow, principal, session, offset=offset, limit=limit)
        return [(p.question, p.answer, p.stored_references) for p in found.pairs], found.total

    for limit in (1, 2, 3, 100):
        for offset in range(len(expected) + 2):
            got = await world.run(lambda uow, o=offset, n=limit: page(uow, o, n), write=False)
            want = [(p.question, p.answer, p.stored_references) for p in expected[offset:][:limit]]
            assert got == (want, len(expected)), (offset, limit)
