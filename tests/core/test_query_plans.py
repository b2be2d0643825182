"""Every hot list query is answered from an index led by (tenant_id, user_pk), in order.

DESIGN.md: "Indexes are designed from the list queries (filter + order + tiebreak), and
each list query's plan is checked in a test." The statements here are the repository's
own, compiled by the app's engine for each backend and explained by the real database
after it has been filled with several users' rows and ANALYZEd, so the planner picks
indexes on cost, not because it was told to (no ``enable_seqscan = off``).

Asserted for each query: the sessions (or messages) table is reached through a keyed
index search, never a scan of the table or of a whole index, and no sort step runs over
the user's rows (PostgreSQL: no Sort/Incremental Sort node; SQLite: no temp B-tree).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa

from chatkeep.core.cursor import CursorCodec
from chatkeep.core.repository import messages as message_rows
from chatkeep.core.repository import sessions as session_rows
from chatkeep.core.repository.counters import select_counted
from chatkeep.core.types import SessionFilter, SessionOrder
from tests.core.plans import (
    PAGE,
    SHARD_KEY,
    Seeded,
    assert_index_only,
    assert_keyed_and_unsorted,
    explain,
    plan_database_url,
    seeded,
)

pytestmark = pytest.mark.anyio

__all__ = ["plan_database_url", "seeded"]  # fixtures, used by name


# --- the session lists ----------------------------------------------------------------

SESSION_LISTS: dict[str, tuple[SessionOrder, bool, str]] = {
    # name: (order, filtered by domain, the index designed for it)
    "recent": (SessionOrder.RECENT, False, "ix_sessions_recent"),
    "recent-in-domain": (SessionOrder.RECENT, True, "ix_sessions_domain_recent"),
    "created": (SessionOrder.CREATED, False, "ix_sessions_created"),
    "-created": (SessionOrder.CREATED_DESC, False, "ix_sessions_created"),
    "title": (SessionOrder.TITLE, False, "ix_sessions_title"),
    "-updated": (SessionOrder.UPDATED_DESC, False, "ix_sessions_updated"),
}


def _session_list(seeded: Seeded, name: str) -> tuple[SessionFilter, SessionOrder, str]:
    order, in_domain, index = SESSION_LISTS[name]
    return SessionFilter(domain_id=seeded.domain_id if in_domain else None), order, index


def _cursor_position(row: Any, order: SessionOrder) -> tuple[Any, ...]:
    """The row's sort key as the service gets it back from a next-page cursor."""
    codec = CursorCodec(b"plans")
    return codec.decode(codec.encode("q", session_rows.sort_key(row, order)), "q")


async def _page(
    seeded: Seeded, flt: SessionFilter, order: SessionOrder, after: tuple[Any, ...] | None
) -> list[Any]:
    stmt = session_rows.select_sessions(seeded.tenant_id, seeded.user_pk, flt, order, after)
    async with seeded.engine.connect() as conn:
        return list((await conn.execute(stmt.limit(PAGE))).all())


@pytest.mark.parametrize("paged", [False, True], ids=["first-page", "after-cursor"])
@pytest.mark.parametrize("name", list(SESSION_LISTS))
async def test_session_list_reads_its_index_in_order(
    seeded: Seeded, name: str, paged: bool
) -> None:
    flt, order, index = _session_list(seeded, name)
    after = None
    if paged:  # where a real next-page cursor points: the last row of page three
        rows = await _page(seeded, flt, order, None)
        for _ in range(2):
            rows = await _page(seeded, flt, order, _cursor_position(rows[-1], order))
        after = _cursor_position(rows[-1], order)
    stmt = session_rows.select_sessions(seeded.tenant_id, seeded.user_pk, flt, order, after)

    plan = await explain(seeded, stmt.limit(PAGE))

    assert_keyed_and_unsorted(plan, "sessions", SHARD_KEY, {index})


@pytest.mark.parametrize("name", list(SESSION_LISTS))
async def test_keyset_pages_walk_the_whole_order_once(seeded: Seeded, name: str) -> None:
    """The keyset condition the plans rely on returns exactly the next rows, ties included."""
    flt, order, _ = _session_list(seeded, name)
    stmt = session_rows.select_sessions(seeded.tenant_id, seeded.user_pk, flt, order)
    async with seeded.engine.connect() as conn:
        everything = [row.id for row in await conn.execute(stmt)]
    walked: list[int] = []
    rows = await _page(seeded, flt, order, None)
    while rows:
        walked += [row.id for row in rows]
        rows = await _page(seeded, flt, order, _cursor_position(rows[-1], order))
    assert len(everything) > 5 * PAGE
    assert walked == everything


async def test_session_count_is_answered_from_a_shard_key_index(seeded: Seeded) -> None:
    stmt = session_rows.select_session_count(seeded.tenant_id, seeded.user_pk, SessionFilter())

    plan = await explain(seeded, stmt)

    assert_keyed_and_unsorted(plan, "sessions", SHARD_KEY)


# --- the message list -----------------------------------------------------------------


# Known plan bug (reported; the fix is a schema change): the messages index is
# (session_id, id), so the query's tenant_id/user_pk conditions are a filter after it.
# PostgreSQL takes them as independent of session_id, estimates a page needs most of the
# session's rows past the cursor, and plans a bitmap scan plus a Sort of all of them.
# Indexing messages on (tenant_id, user_pk, session_id, id) instead — the shard key
# first, as every other list index — gives an ordered index scan (checked by hand).
@pytest.mark.parametrize("newest_first", [False, True], ids=["oldest-first", "newest-first"])
@pytest.mark.parametrize("paged", [False, True], ids=["first-page", "after-cursor"])
async def test_message_list_reads_the_session_index_in_order(
    seeded: Seeded, newest_first: bool, paged: bool
) -> None:
    def select(after_id: int | None) -> sa.Select[Any]:
        return message_rows.select_messages(
            seeded.tenant_id, seeded.user_pk, seeded.long_session_id,
            newest_first=newest_first, after_id=after_id,
        )  # fmt: skip

    after_id = None
    if paged:
        async with seeded.engine.connect() as conn:
            after_id = (await conn.scalars(select(None).limit(1).offset(300))).one()  # its id

    plan = await explain(seeded, select(after_id).limit(51))

    assert_keyed_and_unsorted(
        plan,
        "messages",
        (*SHARD_KEY, "session_id"),
        {"ix_messages_tenant_id_user_pk_session_id_id"},
    )


# --- offset pages and totals (AI-doc paging, AISquare limit/offset) ---------------------

OFFSET_PAGES: dict[str, tuple[SessionOrder, bool, str | None, str]] = {
    # name: (order, filtered by domain, title search, the order's index)
    "aisquare-recent": (SessionOrder.RECENT, False, None, "ix_sessions_recent"),
    "aisquare-in-domain": (SessionOrder.RECENT, True, None, "ix_sessions_domain_recent"),
    "aidoc-updated": (SessionOrder.UPDATED_DESC, False, None, "ix_sessions_updated"),
    "aidoc-by-name": (SessionOrder.UPDATED_DESC, False, "topic 1", "ix_sessions_updated"),
}


def _offset_list(seeded: Seeded, name: str) -> tuple[SessionFilter, SessionOrder, str]:
    order, in_domain, q, index = OFFSET_PAGES[name]
    return SessionFilter(domain_id=seeded.domain_id if in_domain else None, q=q), order, index


@pytest.mark.parametrize("offset", [0, 300], ids=["page-1", "deep-page"])
@pytest.mark.parametrize("name", list(OFFSET_PAGES))
async def test_offset_page_skips_and_filters_on_the_index_alone(
    seeded: Seeded, name: str, offset: int
) -> None:
    """The deferred join: OFFSET/LIMIT (and the title filter) over the order's index
    without reading rows; then the page's rows by primary key, sorted as a page."""
    flt, order, index = _offset_list(seeded, name)
    stmt = session_rows.select_session_page(
        seeded.tenant_id, seeded.user_pk, flt, order, offset=offset, limit=10
    )

    plan = await explain(seeded, stmt)

    assert_index_only(plan, "sessions", {index})
    assert plan.page_sorts_only, f"a sort runs over more than the page:\n{plan.text}"


@pytest.mark.parametrize("name", list(OFFSET_PAGES))
async def test_seeking_an_offset_reads_the_index_alone(seeded: Seeded, name: str) -> None:
    """Where an unlimited stream from an offset starts: the sort key at that position."""
    flt, order, index = _offset_list(seeded, name)
    stmt = session_rows.select_position(seeded.tenant_id, seeded.user_pk, flt, order, 300)

    plan = await explain(seeded, stmt)

    assert_index_only(plan, "sessions", {index})
    assert not plan.sorts, f"the plan sorts the user's rows:\n{plan.text}"


async def test_a_short_needles_total_is_counted_from_a_covering_index(seeded: Seeded) -> None:
    """No counter can hold every substring's total: it is counted, but from the index. A
    needle with no trigram never reaches the trigram index (on PostgreSQL a GIN lookup of
    the user alone, which reads every entry of the user: 17x slower than the scan)."""
    flt = SessionFilter(q="9")
    stmt = session_rows.select_session_count(
        seeded.tenant_id, seeded.user_pk, flt, seeded.engine.dialect.name
    )

    plan = await explain(seeded, stmt)

    assert_index_only(plan, "sessions", {"ix_sessions_updated", "ix_sessions_title"})
    assert "domains" not in plan.text, f"the count joins the domains:\n{plan.text}"
    assert "trigram" not in plan.text, f"the short needle uses the trigram index:\n{plan.text}"


@pytest.mark.parametrize("q", ["topic 96", "opic 9", "zebra"])
async def test_a_long_needles_total_is_counted_from_the_users_trigrams(
    seeded: Seeded, q: str
) -> None:
    """A needle the trigram index serves, rarer than the scan's break-even, is counted
    from its hits within the user: PostgreSQL's GIN keyed by (tenant_id, user_pk), SQLite's
    FTS5 rowid range. Neither reads the table whole nor any other user's hits."""
    flt = SessionFilter(q=q)
    dialect = seeded.engine.dialect.name
    stmt = session_rows.select_session_count(seeded.tenant_id, seeded.user_pk, flt, dialect)

    plan = await explain(seeded, stmt)

    assert "sessions" not in plan.full_scans, plan.text
    if dialect == "postgresql":
        assert plan.index_searches.get("sessions", {}).keys() == {TRIGRAM_INDEX}, plan.text
        condition = plan.index_searches["sessions"][TRIGRAM_INDEX]
        assert all(re.search(rf"\b{c} ?= ?", condition) for c in SHARD_KEY), plan.text
    else:  # the CASE's trigram branch: a rowid range of the FTS table, then primary keys
        assert re.search(r"SCAN session_title_trigrams VIRTUAL TABLE INDEX 0:M\d*><", plan.text)
        assert "USING INTEGER PRIMARY KEY" in plan.text, plan.text


TRIGRAM_INDEX = "ix_sessions_title_trigrams"


@pytest.mark.parametrize("in_domain", [False, True], ids=["user", "user-in-domain"])
async def test_session_totals_are_read_from_the_users_counter_rows(
    seeded: Seeded, in_domain: bool
) -> None:
    domain_id = seeded.domain_id if in_domain else None
    stmt = select_counted(seeded.tenant_id, seeded.user_pk, archived=False, domain_id=domain_id)

    plan = await explain(seeded, stmt)

    used = plan.index_searches.get("session_counts", {})
    assert "session_counts" not in plan.full_scans, plan.text
    assert set(used) and set(used) <= COUNTER_KEYS, plan.text
    for condition in used.values():
        assert all(re.search(rf"\b{c} ?= ?", condition) for c in SHARD_KEY), plan.text


COUNTER_KEYS = {"pk_session_counts", "sqlite_autoindex_session_counts_1"}  # its primary key


async def test_the_total_is_what_count_says(seeded: Seeded) -> None:
    """The seeded counters (rebuilt as the benchmark's loader does) match COUNT(*)."""
    for domain_id in (None, seeded.domain_id):
        flt = SessionFilter(domain_id=domain_id)
        counted = session_rows.select_session_count(seeded.tenant_id, seeded.user_pk, flt)
        kept = select_counted(seeded.tenant_id, seeded.user_pk, archived=False, domain_id=domain_id)
        async with seeded.engine.connect() as conn:
            assert await conn.scalar(kept) == await conn.scalar(counted) > 0


# --- Q&A pages (AI-doc GetChatList) -----------------------------------------------------

ROLE_INDEX = {"ix_messages_tenant_id_user_pk_session_id_role_id"}


async def test_a_qa_page_finds_its_question_in_the_role_index(seeded: Seeded) -> None:
    stmt = message_rows.select_question_id(
        seeded.tenant_id, seeded.user_pk, seeded.long_session_id, 300
    )

    plan = await explain(seeded, stmt)

    assert_index_only(plan, "messages", ROLE_INDEX)
    assert not plan.sorts, f"the plan sorts the session's messages:\n{plan.text}"


async def test_the_leading_answer_check_is_two_index_lookups(seeded: Seeded) -> None:
    stmt = message_rows.select_first_ids(seeded.tenant_id, seeded.user_pk, seeded.long_session_id)

    plan = await explain(seeded, stmt)

    assert_index_only(plan, "messages", ROLE_INDEX)
    assert not plan.sorts, plan.text
