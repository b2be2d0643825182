"""Issue 5's targets, judged on the measured figures: PASS, MISS, or n/a with the reason.

Latency targets are judged on the one-connection pass (a request's own latency, no
queueing behind the benchmark's other connections); throughput targets on the
``--concurrency`` pass. Nothing here adjusts a figure.
"""

from __future__ import annotations

from typing import Any

FLAT_FACTOR = 1.25
DEEP_FACTOR = 3.0
NAME_P99_MS = 25.0
FLOOR_SHARE = 0.35
APPENDS_PER_S = 1_000
STREAM_RSS_MB = 50.0
STREAM_TTFB_MS = 100.0
FULL_HEAVY = 100_000  # the targets speak of a user with 100,000 sessions
APPEND_FLOOR_SHARE = 0.40
SQLITE_APPENDS_PER_S = 400
TWO_WORKER_SIZE = 100_000  # the two-worker targets are stated on the 100k set
TWO_WORKER_RPS = {"aisquare_list": 1_800, "aidoc_list_heavy": 2_100}

Verdict = dict[str, str]


def figures(s: dict[str, Any]) -> dict[str, Any]:
    """One scenario's headline figures, flattened for tables and verdicts."""
    lat = (s.get("latency_pass") or {}).get("latency", {})
    thr = s["throughput_pass"]
    floor = s.get("floor_pass") or {}
    sql = s.get("sql") or {}
    rps = thr["requests_per_s"]
    if s.get("writes"):
        rps = thr["by_kind"].get("append", {}).get("per_s", 0.0)
        floor_rps = floor.get("by_kind", {}).get("append", {}).get("per_s")
    else:
        floor_rps = floor.get("requests_per_s")
    server = thr.get("server", {})
    p50 = lat.get("p50_ms")
    return {
        "rps": rps,
        "p50": p50 if lat else thr["latency"]["p50_ms"],
        "p90": lat.get("p90_ms") if lat else thr["latency"]["p90_ms"],
        "p99": lat.get("p99_ms") if lat else thr["latency"]["p99_ms"],
        "p99_loaded": thr["latency"]["p99_ms"],
        "cpu_ms": server.get("cpu_ms_per_request"),
        "rss_mb": server["rss_peak_bytes"] / 2**20 if "rss_peak_bytes" in server else None,
        "floor_rps": floor_rps,
        "floor_ratio": rps / floor_rps if floor_rps else None,
        "sql_p50": sql.get("p50_ms"),
        "sql_share": sql["p50_ms"] / p50 if sql.get("p50_ms") and p50 else None,
        "errors": thr["errors"] + (s.get("latency_pass") or {}).get("errors", 0),
    }


def _verdict(target: str, ok: bool | None, figure: str) -> Verdict:
    return {"target": target, "verdict": "n/a" if ok is None else ("PASS" if ok else "MISS"),
            "figure": figure}  # fmt: skip


def judge_run(result: dict[str, Any]) -> list[Verdict]:
    sc = result["scenarios"]
    data = result["dataset"]
    full = data["heavy_sessions"] >= FULL_HEAVY
    out: list[Verdict] = []
    for deep, first in (
        ("aidoc_deep_heavy", "aidoc_list_heavy"),
        ("native_list_deep", "native_list"),
    ):
        if deep in sc and first in sc:
            d, f = figures(sc[deep])["p99"], figures(sc[first])["p99"]
            figure = f"{d:.2f} ms vs {f:.2f} ms = {d / f:.2f}x"
            target = f"deep page p99 ≤ {DEEP_FACTOR:g}x page 1 (`{deep}`)"
            out.append(_verdict(target, d <= DEEP_FACTOR * f, figure))
    if "aidoc_name_heavy" in sc:
        p99 = figures(sc["aidoc_name_heavy"])["p99"]
        out.append(_verdict(
            f"name filter p99 ≤ {NAME_P99_MS:g} ms on a {FULL_HEAVY:,}-session user",
            p99 <= NAME_P99_MS if full else None,
            f"{p99:.2f} ms" + ("" if full else f" (heavy user has {data['heavy_sessions']:,})"),
        ))  # fmt: skip
    for name, s in sc.items():
        if s["page_one"]:
            row = figures(s)
            ratio = row["floor_ratio"]
            out.append(_verdict(
                f"throughput ≥ {FLOOR_SHARE:.0%} of floor (`{name}`)",
                None if ratio is None else ratio >= FLOOR_SHARE,
                "-" if ratio is None else
                f"{row['rps']:,.0f} / {row['floor_rps']:,.0f} req/s = {ratio:.0%}",
            ))  # fmt: skip
    if "writes" in sc:
        out += _judge_writes(sc["writes"], result["backend"] == "postgresql")
    out += _judge_two_workers(result)
    stream = result["stream"]
    suffix = "" if full else f" (heavy user has {data['heavy_sessions']:,})"
    out.append(_verdict(f"streamed heavy list: RSS growth < {STREAM_RSS_MB:g} MB",
                        stream["rss_growth_mb_max"] < STREAM_RSS_MB if full else None,
                        f"{stream['rss_growth_mb_max']} MB{suffix}"))  # fmt: skip
    out.append(_verdict(f"streamed heavy list: first byte < {STREAM_TTFB_MS:g} ms",
                        stream["ttfb_ms_max"] < STREAM_TTFB_MS if full else None,
                        f"{stream['ttfb_ms_max']} ms{suffix}"))  # fmt: skip
    return out


def _judge_writes(writes: dict[str, Any], pg: bool) -> list[Verdict]:
    appends = figures(writes)["rps"]
    figure = f"{appends:,.0f}/s" + ("" if pg else " (the target is for PostgreSQL)")
    out = [_verdict(f"≥ {APPENDS_PER_S:,} durable message appends/s (PostgreSQL)",
                    appends >= APPENDS_PER_S if pg else None, figure)]  # fmt: skip
    if not pg:
        out.append(_verdict(f"≥ {SQLITE_APPENDS_PER_S} durable message appends/s (SQLite)",
                            appends >= SQLITE_APPENDS_PER_S, f"{appends:,.0f}/s"))  # fmt: skip
    floor = (writes.get("append_floor") or {}).get("appends_per_s")
    out.append(_verdict(
        f"appends ≥ {APPEND_FLOOR_SHARE:.0%} of the database floor (the bare transaction)",
        appends >= APPEND_FLOOR_SHARE * floor if floor else None,
        f"{appends:,.0f} / {floor:,.0f} appends/s = {appends / floor:.0%}" if floor else "-",
    ))  # fmt: skip
    return out


def _judge_two_workers(result: dict[str, Any]) -> list[Verdict]:
    passes = (result.get("two_workers") or {}).get("scenarios", {})
    full = result["sessions"] == TWO_WORKER_SIZE
    out = []
    for name, goal in TWO_WORKER_RPS.items():
        if name not in passes:
            continue
        rps = passes[name]["requests_per_s"]
        suffix = "" if full else f" (judged on the 100k set; this is {result['size']})"
        out.append(_verdict(
            f"two workers, c=16: ≥ {goal:,} req/s (`{name}`)",
            rps >= goal if full else None, f"{rps:,.0f} req/s{suffix}",
        ))  # fmt: skip
    return out


def judge_sizes(runs: list[dict[str, Any]]) -> list[Verdict]:
    """Flat scaling between the smallest and the largest run, then each run's own targets."""
    out: list[Verdict] = []
    small, large = runs[0], runs[-1]
    decisive = small["sessions"] <= 10_000 and large["sessions"] >= 1_000_000
    for name, s in large["scenarios"].items():
        if s["writes"] or name not in small["scenarios"]:
            continue
        a, b = figures(small["scenarios"][name])["p99"], figures(s)["p99"]
        ok = b <= FLAT_FACTOR * a if decisive else None
        why = "" if decisive else " (needs a 10k and a ≥1m run)"
        out.append(_verdict(
            f"flat: p99 at {large['size']} ≤ {FLAT_FACTOR}x p99 at {small['size']} (`{name}`)",
            ok, f"{b:.2f} ms vs {a:.2f} ms = {b / a:.2f}x{why}",
        ))  # fmt: skip
    for run in runs:
        out += [{**v, "target": f"{run['size']}: {v['target']}"} for v in judge_run(run)]
    return out


def markdown(verdicts: list[Verdict]) -> list[str]:
    lines = ["| target | verdict | measured |", "|---|---|---|"]
    lines += [f"| {v['target']} | **{v['verdict']}** | {v['figure']} |" for v in verdicts]
    return lines
