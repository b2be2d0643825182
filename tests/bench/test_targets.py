"""Verdicts follow the figures: a slow figure is a MISS, a missing condition is n/a."""

from __future__ import annotations

from typing import Any

from chatkeep.bench.targets import judge_run, judge_sizes


def _pass(p50: float, p99: float, rps: float = 100.0) -> dict[str, Any]:
    latency = {"p50_ms": p50, "p90_ms": p99, "p99_ms": p99}
    return {"requests_per_s": rps, "latency": latency, "errors": 0, "by_kind": {}, "server": {}}


def _scenario(p99: float, rps: float, floor_rps: float, page_one: bool = True) -> dict[str, Any]:
    return {
        "page_one": page_one, "writes": False, "notes": [],
        "latency_pass": _pass(p99 / 2, p99), "throughput_pass": _pass(p99, p99, rps),
        "floor_pass": _pass(1, 1, floor_rps), "sql": {"p50_ms": p99 / 4},
    }  # fmt: skip


def _run(sessions: int, heavy: int, list_p99: float, deep_p99: float) -> dict[str, Any]:
    return {
        "backend": "postgresql", "size": str(sessions), "sessions": sessions,
        "dataset": {"heavy_sessions": heavy},
        "stream": {"rss_growth_mb_max": 60.0, "ttfb_ms_max": 20.0},
        "scenarios": {
            "aidoc_list_heavy": _scenario(list_p99, rps=400, floor_rps=1000),
            "aidoc_deep_heavy": _scenario(deep_p99, rps=300, floor_rps=1000, page_one=False),
            "aidoc_name_heavy": _scenario(30.0, rps=100, floor_rps=1000, page_one=False),
        },
    }  # fmt: skip


def _verdicts(found: list[dict[str, str]]) -> dict[str, str]:
    return {v["target"]: v["verdict"] for v in found}


def test_a_full_size_run_is_judged_on_its_figures() -> None:
    verdicts = _verdicts(judge_run(_run(1_000_000, 100_000, list_p99=10.0, deep_p99=40.0)))
    assert verdicts["deep page p99 ≤ 3x page 1 (`aidoc_deep_heavy`)"] == "MISS"
    assert verdicts["name filter p99 ≤ 25 ms on a 100,000-session user"] == "MISS"
    assert verdicts["throughput ≥ 35% of floor (`aidoc_list_heavy`)"] == "PASS"
    assert verdicts["streamed heavy list: RSS growth < 50 MB"] == "MISS"
    assert verdicts["streamed heavy list: first byte < 100 ms"] == "PASS"


def test_targets_for_a_100k_session_user_are_not_judged_on_a_smaller_one() -> None:
    verdicts = _verdicts(judge_run(_run(10_000, 5_000, list_p99=10.0, deep_p99=20.0)))
    assert verdicts["name filter p99 ≤ 25 ms on a 100,000-session user"] == "n/a"
    assert verdicts["streamed heavy list: RSS growth < 50 MB"] == "n/a"
    assert verdicts["deep page p99 ≤ 3x page 1 (`aidoc_deep_heavy`)"] == "PASS"


def test_flat_scaling_needs_10k_and_1m_and_compares_their_p99() -> None:
    small = _run(10_000, 5_000, list_p99=10.0, deep_p99=20.0)
    flat = _verdicts(judge_sizes([small, _run(1_000_000, 100_000, 12.0, 20.0)]))
    steep = _verdicts(judge_sizes([small, _run(1_000_000, 100_000, 13.0, 20.0)]))
    partial = _verdicts(judge_sizes([small, _run(100_000, 50_000, 10.0, 20.0)]))
    target = "flat: p99 at {} ≤ 1.25x p99 at 10000 (`aidoc_list_heavy`)"
    assert flat[target.format(1000000)] == "PASS"
    assert steep[target.format(1000000)] == "MISS"
    assert partial[target.format(100000)] == "n/a"


def _writes(appends: float, floor: float | None) -> dict[str, Any]:
    throughput = {**_pass(5, 9), "by_kind": {"append": {"per_s": appends}}}
    return {
        "page_one": False, "writes": True, "notes": [], "throughput_pass": throughput,
        "append_floor": None if floor is None else {"appends_per_s": floor},
    }  # fmt: skip


def test_appends_are_judged_against_the_database_floor_and_sqlites_own_target() -> None:
    pg = _run(10_000, 5_000, list_p99=10.0, deep_p99=20.0)
    pg["scenarios"]["writes"] = _writes(1_100, floor=2_500)
    lite = {**pg, "backend": "sqlite", "scenarios": {"writes": _writes(450, floor=3_000)}}
    unmeasured = {**pg, "scenarios": {"writes": _writes(1_100, floor=None)}}
    floor_target = "appends ≥ 40% of the database floor (the bare transaction)"
    assert _verdicts(judge_run(pg))[floor_target] == "PASS"  # 44 %
    assert _verdicts(judge_run(pg))["≥ 1,000 durable message appends/s (PostgreSQL)"] == "PASS"
    assert _verdicts(judge_run(lite))[floor_target] == "MISS"  # 15 %
    assert _verdicts(judge_run(lite))["≥ 400 durable message appends/s (SQLite)"] == "PASS"
    assert _verdicts(judge_run(unmeasured))[floor_target] == "n/a"


def test_the_two_worker_targets_are_judged_on_the_100k_set_only() -> None:
    passes = {"aisquare_list": _pass(5, 9, rps=1_900), "aidoc_list_heavy": _pass(5, 9, rps=2_000)}
    full = {**_run(100_000, 50_000, 10.0, 20.0), "two_workers": {"scenarios": passes}}
    small = {**_run(10_000, 5_000, 10.0, 20.0), "two_workers": {"scenarios": passes}}
    verdicts = _verdicts(judge_run(full))
    assert verdicts["two workers, c=16: ≥ 1,800 req/s (`aisquare_list`)"] == "PASS"
    assert verdicts["two workers, c=16: ≥ 2,100 req/s (`aidoc_list_heavy`)"] == "MISS"
    assert (
        _verdicts(judge_run(small))["two workers, c=16: ≥ 1,800 req/s (`aisquare_list`)"] == "n/a"
    )
