"""A deterministic data set plan: who has how many sessions, in which domain, titled what.

Pure (no database): the same size and seed give the same plan, row for row, so a run can
be repeated and two sizes compared. Sessions per user follow a power law (most users have
tens); a few heavy users hold up to 100,000 each, capped at half the data set at small
sizes so the rest still has typical users (the cap is reported).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

HEAVY_MAX = 100_000
TYPICAL_SESSIONS = 40  # the scenarios' typical user, identical at every size
# The writes scenario's own users, one per connection (up to this many): different users
# writing at once, as in a chat service; lists never see their rows.
WRITER_USERS = tuple(f"bench-writer-{i}" for i in range(16))
TENANTS = 4
DOMAINS_PER_TENANT = 8  # plus each tenant's Default
PINNED_SHARE = 0.02
ARCHIVED_SHARE = 0.05
MESSAGE_SHARE = 0.05  # sessions that get a few messages
SPAN_SECONDS = 2 * 365 * 24 * 3600  # sessions were created over two years
NAME_QUERY = "kubernetes"  # the AI-doc name filter's word: a real hit on ~3% of titles

# Title words. The topic list is weighted so NAME_QUERY is a minority hit, as real
# searches are: it matches some of the heavy user's sessions, not all, not none.
VERBS = ("Debug", "Explain", "Summarise", "Compare", "Draft", "Review", "Plan", "Fix",
         "Translate", "Outline", "Estimate", "Refactor")  # fmt: skip
TOPICS = ("invoice", "contract", "python", "sql", "budget", "roadmap", "onboarding",
          "kafka", "postgres", "pricing", "hiring", "security", "kubernetes", "latency",
          "marketing", "tax", "migration", "design", "api", "backup")  # fmt: skip
TOPIC_WEIGHTS = (9, 8, 8, 7, 7, 6, 6, 5, 5, 5, 5, 4, 3, 3, 3, 3, 3, 3, 3, 3)
QUALIFIERS = ("for Q3", "draft", "v2", "notes", "follow-up", "question", "ideas", "issue",
              "checklist", "summary")  # fmt: skip
DOMAIN_NAMES = ("Finance", "Legal", "Engineering", "Sales", "Support", "HR", "Research",
                "Operations")  # fmt: skip

_SIZE = re.compile(r"^(\d+)([km]?)$")


def parse_size(text: str) -> int:
    """``10k`` → 10,000; ``1m`` → 1,000,000; plain digits as they are."""
    match = _SIZE.fullmatch(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a data set size: {text!r} (e.g. 10k, 100k, 1m, 10m)")
    return int(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)]


def size_label(sessions: int) -> str:
    for unit, scale in (("m", 1_000_000), ("k", 1_000)):
        if sessions % scale == 0:
            return f"{sessions // scale}{unit}"
    return str(sessions)


@dataclass(frozen=True, slots=True)
class PlannedUser:
    tenant: int  # index into the plan's tenants
    user_id: str
    sessions: int


@dataclass(frozen=True, slots=True)
class PlannedSession:
    user: int  # index into DatasetPlan.users
    domain: int  # 0 = the tenant's Default, 1.. = DOMAIN_NAMES
    title: str
    created_offset: int  # seconds before the data set's reference time
    active_offset: int  # seconds before the reference time of the last activity (≤ created)
    pinned: bool
    archived: bool
    messages: int


@dataclass(frozen=True, slots=True)
class DatasetPlan:
    sessions: int
    seed: int
    heavy_sessions: int
    users: list[PlannedUser] = field(repr=False)

    @property
    def label(self) -> str:
        return size_label(self.sessions)

    @property
    def tenant_names(self) -> list[str]:
        return [f"bench-{i}" for i in range(TENANTS)]

    @property
    def heavy_count(self) -> int:
        return sum(1 for u in self.users if u.user_id.startswith("heavy-"))


def heavy_sessions_for(total: int) -> int:
    return min(HEAVY_MAX, total // 2)


def plan_dataset(total: int, seed: int) -> DatasetPlan:
    """Users and their session counts, adding up to exactly ``total``."""
    if total < 2 * TYPICAL_SESSIONS:
        raise ValueError(f"a data set needs at least {2 * TYPICAL_SESSIONS} sessions")
    rng = random.Random(seed)
    heavy = heavy_sessions_for(total)
    heavy_users = max(1, min(3, total // 500_000))
    users = [PlannedUser(0, "typical", TYPICAL_SESSIONS)]
    users += [PlannedUser(0, f"heavy-{i}", heavy) for i in range(heavy_users)]
    left = total - TYPICAL_SESSIONS - heavy * heavy_users
    n = 0
    while left > 0:
        # Pareto(1.2) from 8: median ~14, a long tail; capped so no extra heavy user appears.
        count = min(left, int(8 * rng.paretovariate(1.2)), 5_000)
        users.append(PlannedUser(n % TENANTS, f"u{n:07d}", count))
        left -= count
        n += 1
    return DatasetPlan(total, seed, heavy, users)


def plan_sessions(plan: DatasetPlan, user_index: int) -> Iterator[PlannedSession]:
    """One user's sessions, from a generator seeded by (seed, user): any user alone is
    reproducible, so loading can stream users without holding the whole set."""
    user = plan.users[user_index]
    rng = random.Random(f"{plan.seed}:{user.user_id}")
    for _ in range(user.sessions):
        created = rng.randrange(SPAN_SECONDS)
        messages = rng.randint(2, 6) if rng.random() < MESSAGE_SHARE else 0
        active = rng.randrange(created + 1) if messages else created
        yield PlannedSession(
            user=user_index,
            domain=0 if rng.random() < 0.3 else rng.randint(1, DOMAINS_PER_TENANT),
            title=_title(rng),
            created_offset=created,
            active_offset=active,
            pinned=rng.random() < PINNED_SHARE,
            archived=rng.random() < ARCHIVED_SHARE,
            messages=messages,
        )


def _title(rng: random.Random) -> str:
    topic = rng.choices(TOPICS, TOPIC_WEIGHTS)[0]
    return f"{rng.choice(VERBS)} {topic} {rng.choice(QUALIFIERS)}"
