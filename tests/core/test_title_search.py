"""Title search (native ``q``, AI-doc ``name``): case-insensitive, ``%``/``_`` literal.

PostgreSQL compares the stored ``lower(title)`` and folds all of Unicode; SQLite's LIKE
folds ASCII letters only (docs/decisions.md, "Search").
"""

from __future__ import annotations

import pytest

from chatkeep.core import sessions
from chatkeep.core.types import SessionFilter, SessionListQuery
from chatkeep.core.uow import UnitOfWork
from tests.factories import World

pytestmark = pytest.mark.anyio

TITLES = ("Quarterly BUDGET", "50% off_sale", "50 percent offxsale", "ÄPFEL und Birnen")


async def test_title_search_folds_case_and_matches_wildcards_literally(world: World) -> None:
    key = await world.key(await world.tenant())
    principal = await world.principal(key)
    for title in TITLES:
        await world.session(key, title=title)

    async def search(q: str) -> set[str]:
        async def work(uow: UnitOfWork) -> set[str]:
            query = SessionListQuery(SessionFilter(q=q), limit=100)
            found = (await sessions.list_sessions(uow, principal, query)).items
            positional = sessions.stream_sessions(uow, principal, SessionFilter(q=q), limit=100)
            assert {s.title async for s in positional} == {s.title for s in found}
            return {s.title for s in found}

        result: set[str] = await world.run(work, write=False)
        return result

    assert await search("budget") == {"Quarterly BUDGET"}
    assert await search("% OFF_") == {"50% off_sale"}
    assert await search("/") == set()
    postgres = world.state.engine.dialect.name == "postgresql"
    assert await search("äpfel") == ({"ÄPFEL und Birnen"} if postgres else set())
    assert await search("ÄPFEL") == {"ÄPFEL und Birnen"}
