"""The whole harness at a tiny size on SQLite: real server, load generator, floors, files.

Short passes (0.2 s warm-up, 0.5 s measured) and a few scenarios keep it near 20 s; the
figures are not meaningful at this size, only that each is really measured.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatkeep.bench.main import run_benchmark
from chatkeep.bench.runner import BenchOptions

SCENARIOS = frozenset({"aisquare_list", "aidoc_name_heavy", "native_list_deep", "writes"})


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bench")
    options = BenchOptions(
        base_url="sqlite:///unused.db", warmup=0.2, duration=0.5, concurrency=4,
        sql_seconds=0.2, pin=False, progress=False, only=SCENARIOS,
        data_dir=root / "data", work_dir=root / "work",
    )  # fmt: skip
    run_benchmark(options, ["400"], root / "results")
    return root / "results"


def test_each_scenario_is_measured_against_its_floors(results: Path) -> None:
    run = json.loads((results / "sqlite-400.json").read_text())
    assert set(run["scenarios"]) == SCENARIOS
    for name, scenario in run["scenarios"].items():
        passes = ["throughput_pass", "floor_pass"] + ([] if name == "writes" else ["latency_pass"])
        for which in passes:
            measured = scenario[which]
            assert measured["ok"] > 0 and measured["errors"] == 0, (name, which, measured)
            assert measured["latency"]["p99_ms"] >= measured["latency"]["p50_ms"] > 0
        assert scenario["throughput_pass"]["server"]["rss_peak_bytes"] > 0
        if name != "writes":
            assert scenario["sql"]["statements"] >= 2  # the key lookup and the list itself
            assert scenario["sql"]["p50_ms"] > 0
    writes = run["scenarios"]["writes"]["throughput_pass"]
    assert writes["by_kind"]["append"]["count"] > 0
    assert set(writes["statuses"]) == {"201"}  # creates and appends alike
    floor = run["scenarios"]["writes"]["append_floor"]
    assert floor["appends_per_s"] > 0 and floor["latency"]["count"] > 0
    two = run["two_workers"]["scenarios"]["aisquare_list"]  # the only one of its two here
    assert two["ok"] > 0 and two["errors"] == 0
    assert run["loadgen_ceiling"]["requests_per_s"] > 0
    assert run["stream"]["runs"][0]["status"] == "200"
    assert run["stream"]["bytes"] > 0


def test_small_sizes_say_which_deep_page_they_measured(results: Path) -> None:
    run = json.loads((results / "sqlite-400.json").read_text())
    deep = run["scenarios"]["native_list_deep"]
    assert deep["notes"] and "not 100" in deep["notes"][0]


def test_reports_state_every_target_and_the_plot_is_drawn(results: Path) -> None:
    report = (results / "sqlite-400.md").read_text()
    assert "| scenario | req/s (c=4)" in report
    assert "turned off for the benchmark" in report
    for verdict in ("**n/a**", "name filter p99", "of the database floor", "two workers, c=16"):
        assert verdict in report
    summary = json.loads((results / "summary-sqlite.json").read_text())
    assert summary["sizes"] == ["400"]
    assert all(v["verdict"] in {"PASS", "MISS", "n/a"} for v in summary["verdicts"])
    assert (results / "latency-sqlite.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
