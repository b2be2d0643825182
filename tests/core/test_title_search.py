"""Title search (native ``q``, AI-doc ``name``): case-insensitive, ``%``/``_`` literal.

PostgreSQL compares the stored ``lower(title)`` and folds all of Unicode; SQLite's LIKE
folds ASCII letters only (docs/decisions.md, "Search"). Needles long enough for the
trigram index (migration 0010) must give exactly the scan's answers.
"""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from chatkeep.core import domains, sessions, tenants
from chatkeep.core.types import SessionChanges, SessionFilter, SessionListQuery, SessionOrder
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


# --- the trigram index (migration 0010) gives the scan's answers -------------------------

ALPHABET = "aAbBkK %_/\"*'\\-éÉäÄ中文字3"
TRIGRAM_TITLES = (
    "Kubernetes 中文字幕 notes",
    "kubernetes",
    "100% off_sale /x",
    'say "hi" *now*',
    "中文字",
    "Ärger mit äpfeln",
    "a_b%c/d",
    "",
    "\uff2b\uff35\uff22\uff25 fullwidth",
)


def _fold(text: str, postgres: bool) -> str:
    """Each database's case folding, for the alphabet above: SQLite's LIKE folds ASCII
    letters only, PostgreSQL's lower() all of them."""
    if postgres:
        return text.lower()
    return "".join(c.lower() if c.isascii() else c for c in text)


def _titles_and_needles(seed: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    titles = list(TRIGRAM_TITLES)
    titles += ["".join(rng.choices(ALPHABET, k=rng.randint(0, 14))) for _ in range(50)]
    needles = ["kubernetes", "KUBER", "中文字", "文字", "% o", "f_s", '"hi"', "*", "/x", "ÄRG"]
    for _ in range(120):
        source = rng.choice(titles)
        if source and rng.random() < 0.7:  # a real substring, its case flipped at random
            start = rng.randrange(len(source))
            piece = source[start : start + rng.randint(1, 6)]
            needles.append("".join(c.swapcase() if rng.random() < 0.5 else c for c in piece))
        else:
            needles.append("".join(rng.choices(ALPHABET, k=rng.randint(1, 5))))
    return titles, needles


async def test_trigram_search_answers_exactly_as_the_scan(world: World) -> None:
    """Same sessions, order, offset pages and totals as a substring test of every title,
    for long and short needles, wildcards, quotes, CJK and mixed case; never another
    user's sessions, though they have the very same titles."""
    tenant = await world.tenant()
    key, other = await world.key(tenant, "alice"), await world.key(tenant, "bob")
    principal = await world.principal(key)
    titles, needles = _titles_and_needles(seed=10)
    for title in titles:
        await world.session(key, title=title)
        await world.session(other, title=title)
    postgres = world.state.engine.dialect.name == "postgresql"
    order = SessionOrder.UPDATED_DESC

    async def work(uow: UnitOfWork) -> None:
        everything = await sessions.page_sessions(
            uow, principal, SessionFilter(), order, offset=0, limit=100
        )
        assert everything.total == len(titles)
        mine = {s.id for s in everything.items}
        domain = everything.items[0].domain_id  # all in the default domain, none pinned
        for needle in needles:
            expected = [s for s in everything.items
                        if _fold(needle, postgres) in _fold(s.title, postgres)]  # fmt: skip
            flt = SessionFilter(q=needle)
            page = await sessions.page_sessions(uow, principal, flt, order, offset=0, limit=100)
            assert [s.id for s in page.items] == [s.id for s in expected], needle
            assert page.total == len(expected), needle
            assert {s.id for s in page.items} <= mine
            second = await sessions.page_sessions(uow, principal, flt, order, offset=3, limit=4)
            assert [s.id for s in second.items] == [s.id for s in expected[3:7]], needle
            assert await sessions.count_sessions(uow, principal, flt) == len(expected), needle
            every_shape = SessionFilter(q=needle, domain_id=domain, archived=None, pinned=False)
            assert await sessions.count_sessions(uow, principal, every_shape) == len(expected)
            query = SessionListQuery(flt, order=order, limit=100)
            keyset = (await sessions.list_sessions(uow, principal, query)).items
            assert [s.id for s in keyset] == [s.id for s in expected], needle

    await world.run(work, write=False)


async def _check_trigram_index(world: World) -> None:
    """SQLite: every session's key holds exactly its title's trigrams, and no other key
    holds any (read through fts5vocab; FTS5's integrity-check does not compare an
    external-content table with its content before 3.44)."""
    if world.state.engine.dialect.name != "sqlite":
        return
    async with world.state.engine.begin() as conn:
        await conn.execute(sa.text(
            "CREATE VIRTUAL TABLE temp.title_terms "
            "USING fts5vocab(main, session_title_trigrams, instance)"
        ))  # fmt: skip
        try:
            instances = (await conn.execute(sa.text("SELECT doc, term FROM title_terms"))).all()
        finally:
            await conn.execute(sa.text("DROP TABLE temp.title_terms"))
        rows = (await conn.execute(sa.text("SELECT id, user_pk, title FROM sessions"))).all()
    indexed: dict[int, set[str]] = {}
    for doc, term in instances:
        indexed.setdefault(doc, set()).add(term)
    expected = {
        (user_pk << 40) | id_: {title.lower()[i : i + 3] for i in range(len(title) - 2)}
        for id_, user_pk, title in rows
        if len(title) >= 3
    }
    assert indexed == expected


async def test_the_trigram_index_follows_create_rename_and_delete(world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    principal = await world.principal(key)

    async def found(q: str) -> list[str]:
        async def work(uow: UnitOfWork) -> list[str]:
            flt = SessionFilter(q=q)
            page = await sessions.page_sessions(
                uow, principal, flt, SessionOrder.UPDATED_DESC, offset=0, limit=10
            )
            assert page.total == len(page.items)
            return [s.title for s in page.items]

        result: list[str] = await world.run(work, write=False)
        return result

    created = await world.session(key, title="Plan the kubernetes upgrade")
    assert await found("KUBERNETES") == ["Plan the kubernetes upgrade"]

    async def rename(uow: UnitOfWork) -> None:
        await sessions.update_session(uow, principal, created.uuid, SessionChanges(title="nomad"))

    await world.run(rename)
    assert await found("kubernetes") == []
    assert await found("noMAD") == ["nomad"]

    async def archive(uow: UnitOfWork) -> None:  # an update that leaves the title alone
        await sessions.update_session(uow, principal, created.uuid, SessionChanges(archived=False))

    await world.run(archive)
    assert await found("nomad") == ["nomad"]

    async def delete(uow: UnitOfWork) -> None:
        await sessions.delete_session(uow, principal, created.uuid)

    await world.run(delete)
    assert await found("nomad") == []
    await _check_trigram_index(world)

    doomed = await world.domain(tenant, "Doomed")
    await world.session(key, title="kubernetes in a doomed domain", domain_id=doomed.id)
    assert await found("doomed") == ["kubernetes in a doomed domain"]

    async def delete_domain(uow: UnitOfWork) -> None:  # its sessions go by ON DELETE CASCADE
        operator = tenants.operator_principal(await tenants.tenant_named(uow, tenant))
        await domains.delete_domain(uow, operator, doomed.id, cascade=True)

    await world.run(delete_domain)
    assert await found("doomed") == []
    await _check_trigram_index(world)
