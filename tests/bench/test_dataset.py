"""The data set plan: deterministic, exact in size, power-law shaped, searchable."""

from __future__ import annotations

import pytest

from chatkeep.bench.dataset import (
    HEAVY_MAX,
    NAME_QUERY,
    TYPICAL_SESSIONS,
    parse_size,
    plan_dataset,
    plan_sessions,
    size_label,
)


@pytest.mark.parametrize(("text", "sessions"), [("10k", 10_000), ("1M", 1_000_000), ("250", 250)])
def test_sizes_parse_and_label_round_trip(text: str, sessions: int) -> None:
    assert parse_size(text) == sessions
    assert parse_size(size_label(sessions)) == sessions


@pytest.mark.parametrize("text", ["", "0", "10g", "k", "-5k", "1.5m"])
def test_bad_sizes_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a data set size"):
        parse_size(text)


def test_plan_adds_up_exactly_and_is_deterministic() -> None:
    plan = plan_dataset(10_000, seed=7)
    assert sum(u.sessions for u in plan.users) == 10_000
    assert plan == plan_dataset(10_000, seed=7)
    assert plan != plan_dataset(10_000, seed=8)
    assert list(plan_sessions(plan, 5)) == list(plan_sessions(plan_dataset(10_000, 7), 5))


def test_heavy_user_is_capped_at_half_until_it_reaches_100k() -> None:
    assert plan_dataset(10_000, 1).heavy_sessions == 5_000
    assert plan_dataset(1_000_000, 1).heavy_sessions == HEAVY_MAX


def test_most_users_have_tens_of_sessions_and_the_typical_user_is_fixed() -> None:
    plan = plan_dataset(100_000, 1)
    counts = sorted(u.sessions for u in plan.users if not u.user_id.startswith("heavy-"))
    median = counts[len(counts) // 2]
    assert 5 <= median <= 60, median
    assert {u.user_id: u.sessions for u in plan.users}["typical"] == TYPICAL_SESSIONS
    assert len({u.tenant for u in plan.users}) == 4


def test_name_query_hits_some_but_not_most_of_the_heavy_users_titles() -> None:
    plan = plan_dataset(10_000, 1)
    heavy = next(i for i, u in enumerate(plan.users) if u.user_id == "heavy-0")
    sessions = list(plan_sessions(plan, heavy))
    hits = sum(NAME_QUERY in s.title.lower() for s in sessions)
    assert 0.01 * len(sessions) < hits < 0.10 * len(sessions)
    assert any(s.pinned for s in sessions) and any(s.archived for s in sessions)
    assert any(s.messages for s in sessions)
