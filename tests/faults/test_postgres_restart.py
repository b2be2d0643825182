"""Restart PostgreSQL (crash, then clean stop) under load, without restarting chatkeep.

During each outage every request must get a clean 503 in its own dialect's format within
a bound (no stack trace, no hung worker), /readyz must say 503, the service must recover
by itself once the database is back, and no acknowledged append may be lost.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.faults.cluster import throwaway_cluster
from tests.faults.dialects import Answer, Prober, unavailable_problem
from tests.faults.load import AppendLoad, Outcome, retry_all
from tests.faults.server import Server, create_account, create_sessions, server_env
from tests.faults.stored import assert_exactly_once, found_once, read_stored

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 3.0
ANSWER_BOUND = 5.0  # seconds any request may take while the database is down
RECOVERY_BOUND = 15.0  # seconds from the database being back to /readyz saying 200


def wait_until_ready(base_url: str) -> float:
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=ANSWER_BOUND * 2) as client:
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() - started < RECOVERY_BOUND, "chatkeep did not recover"
            time.sleep(0.05)
    return time.monotonic() - started


def as_answer(outcome: Outcome) -> Answer:
    return Answer("native-append", outcome.status, outcome.seconds, outcome.started,
                  outcome.content_type, outcome.body)  # fmt: skip


def assert_clean_503s(answers: list[Answer]) -> None:
    """Every 503 is its dialect's own problem document, with no stack trace."""
    for answer in answers:
        if answer.status == 503:
            why = unavailable_problem(answer.dialect, answer.content_type, answer.body)
            assert why is None, why


def test_postgres_restart_under_load(tmp_path: Path, figures: list[str]) -> None:
    with throwaway_cluster() as cluster:
        env = server_env(cluster.url, tmp_path)
        server = Server(env, tmp_path / "server.log", workers=2)
        server.start()
        outages: list[tuple[str, float, float]] = []  # (mode, down from, down until)
        recoveries: list[float] = []
        try:
            account = create_account(env)
            sessions = create_sessions(server.base_url, account.headers, 4)
            load = AppendLoad(server.base_url, account.headers, sessions, timeout=30)
            with load, Prober(server.base_url, account.key, timeout=30) as prober:
                for mode in ("immediate", "fast"):
                    load.wait_for_more_acknowledged(30)
                    cluster.stop(mode)
                    down = time.monotonic()
                    time.sleep(OUTAGE_SECONDS)
                    up = time.monotonic()
                    cluster.start()
                    outages.append((mode, down, up))
                    recoveries.append(wait_until_ready(server.base_url))
                load.wait_for_more_acknowledged(30)
            acknowledged = load.ledger.acknowledged()
            unacknowledged = load.ledger.unacknowledged()
            retried = retry_all(server.base_url, account.headers, unacknowledged)
            stored = read_stored(cluster.url)
        finally:
            server.stop()
    answers = [*prober.answers, *(as_answer(o) for o in load.ledger.snapshot())]
    during = [a for a in answers if any(d <= a.started and a.started + a.seconds <= u
                                        for _, d, u in outages)]  # fmt: skip
    statuses = sorted({(a.dialect, a.status) for a in answers}, key=str)
    figures.append(
        f"{len(answers)} requests ({len(during)} wholly inside the two {OUTAGE_SECONDS:.0f} s "
        f"outages: {sum(a.status == 503 for a in during)} x 503); statuses seen: {statuses}; "
        f"slowest answer {max(a.seconds for a in answers):.2f} s; recovery after restart "
        + ", ".join(f"{m}: {r:.2f} s" for (m, _, _), r in zip(outages, recoveries, strict=True))
    )
    figures.append(
        f"{len(acknowledged)} appends acknowledged, {found_once(stored, acknowledged)} found "
        f"exactly once; {len(unacknowledged)} refused (503) or cut, retried with their key: "
        f"{sum(o.status == 201 for o in retried)} x 201, {sum(o.replayed for o in retried)} "
        f"replays (committed though the answer was lost)"
    )
    assert all(a.status is not None for a in answers), "a request got no HTTP answer"
    assert max(a.seconds for a in answers) <= ANSWER_BOUND
    assert {a.status for a in answers} <= {200, 201, 503}
    assert during and all(a.status == 503 for a in during)
    assert {a.dialect for a in during} == {"readyz", "native", "aisquare", "aidoc", "native-append"}
    assert_clean_503s(answers)
    assert all(o.status == 201 for o in retried), [(o.status, o.body) for o in retried]
    assert_exactly_once(stored, acknowledged, [*acknowledged, *unacknowledged])


FREEZE_SECONDS = 16.0  # longer than FROZEN_BOUND: a request waiting for the thaw fails
STATEMENT_TIMEOUT = 2  # CHATKEEP_DB_STATEMENT_TIMEOUT_SECONDS for this test (default 30)
# A request may meet the rate-limit counter's 2 s timeout, then its own pool's 2 s ping
# and 5 s connect timeouts, before its 503 (8.1 s seen); plus margin for a busy machine.
FROZEN_BOUND = 12.0


def test_a_hung_postgres_gets_503s_not_hung_workers(tmp_path: Path, figures: list[str]) -> None:
    """SIGSTOP the database: connections stay open but nothing answers. Requests must
    still be answered (503) within the connect/statement timeouts, and all recover."""
    with throwaway_cluster() as cluster:
        env = server_env(cluster.url, tmp_path)
        env["CHATKEEP_DB_STATEMENT_TIMEOUT_SECONDS"] = str(STATEMENT_TIMEOUT)
        server = Server(env, tmp_path / "server.log", workers=1)
        server.start()
        try:
            account = create_account(env)
            sessions = create_sessions(server.base_url, account.headers, 4)
            load = AppendLoad(server.base_url, account.headers, sessions, timeout=30)
            with load, Prober(server.base_url, account.key, timeout=30) as prober:
                load.wait_for_more_acknowledged(30)
                cluster.freeze()
                frozen = time.monotonic()
                try:
                    time.sleep(FREEZE_SECONDS)
                finally:
                    cluster.thaw()
                thawed = time.monotonic()
                recovery = wait_until_ready(server.base_url)
                load.wait_for_more_acknowledged(30)
            acknowledged = load.ledger.acknowledged()
            unacknowledged = load.ledger.unacknowledged()
            retried = retry_all(server.base_url, account.headers, unacknowledged)
            stored = read_stored(cluster.url)
        finally:
            server.stop()
    answers = [*prober.answers, *(as_answer(o) for o in load.ledger.snapshot())]
    during = [a for a in answers if frozen <= a.started and a.started + a.seconds <= thawed]
    statuses = sorted({(a.dialect, a.status) for a in answers}, key=str)
    slowest = max(a.seconds for a in answers)
    figures.append(
        f"database frozen {FREEZE_SECONDS:.0f} s: {len(answers)} requests, {len(during)} "
        f"answered wholly inside the freeze ({sum(a.status == 503 for a in during)} x 503); "
        f"statuses {statuses}; slowest answer {slowest:.2f} s; ready {recovery:.2f} s "
        f"after thawing; {len(acknowledged)} appends acknowledged, "
        f"{found_once(stored, acknowledged)} found exactly once"
    )
    unanswered = [(a.dialect, round(a.started - frozen, 2), round(a.seconds, 2))
                  for a in answers if a.status is None]  # fmt: skip
    assert not unanswered, f"requests without an HTTP answer (dialect, start, s): {unanswered}"
    assert slowest <= FROZEN_BOUND
    assert {a.status for a in answers} <= {200, 201, 503}
    assert during and all(a.status == 503 for a in during)
    assert_clean_503s(answers)
    assert all(o.status == 201 for o in retried), [(o.status, o.body) for o in retried]
    assert_exactly_once(stored, acknowledged, [*acknowledged, *unacknowledged])
