"""Results as files: one JSON + Markdown per run, a summary across sizes per database.

Figures are copied from the measurements, never adjusted; each target of issue 5 is
stated as PASS, MISS, or n/a (with the reason) next to the figure it was judged on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chatkeep.bench import targets

RESULTS_DIR = Path("bench/results")


def run_stem(result: dict[str, Any]) -> str:
    return f"{result['backend']}-{result['size']}"


def write_run(result: dict[str, Any], results_dir: Path = RESULTS_DIR) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = results_dir / run_stem(result)
    json_path, md_path = stem.with_suffix(".json"), stem.with_suffix(".md")
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    md_path.write_text(run_markdown(result))
    return [json_path, md_path]


def load_runs(results_dir: Path, backend: str) -> list[dict[str, Any]]:
    """Every run of ``backend`` on file, smallest data set first."""
    runs = [json.loads(p.read_text()) for p in results_dir.glob(f"{backend}-*.json")]
    runs = [r for r in runs if r.get("backend") == backend and "scenarios" in r]
    return sorted(runs, key=lambda r: r["sessions"])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _provenance(data: dict[str, Any]) -> str:
    return (
        "reused from an earlier load" if data["reused"] else f"loaded in {data['load_seconds']} s"
    )


def scenario_table(result: dict[str, Any]) -> list[str]:
    conc = result["settings"]["concurrency"]
    lines = [
        f"| scenario | req/s (c={conc}) | p50 ms (c=1) | p90 ms (c=1) | p99 ms (c=1) "
        f"| p99 ms (c={conc}) | server CPU ms/req | server RSS MB | floor req/s "
        "| chatkeep/floor | SQL p50 ms | SQL/request | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in result["scenarios"].items():
        row = targets.figures(s)
        lines.append(
            f"| {s['title']} (`{name}`) | {_num(row['rps'])} | {_ms(row['p50'])} "
            f"| {_ms(row['p90'])} | {_ms(row['p99'])} | {_ms(row['p99_loaded'])} "
            f"| {_ms(row['cpu_ms'])} | {_num(row['rss_mb'], 1)} | {_num(row['floor_rps'])} "
            f"| {_num(row['floor_ratio'], 2)} | {_ms(row['sql_p50'])} "
            f"| {_num(row['sql_share'], 2)} | {row['errors']} |"
        )
    return lines


def run_markdown(result: dict[str, Any]) -> str:
    machine, data, cfg = result["machine"], result["dataset"], result["settings"]
    stream = result["stream"]
    lines = [
        f"# chatkeep benchmark: {result['backend']}, {result['size']} sessions",
        "",
        f"Measured {result['measured_at']} on {machine['cpu_model']}, {machine['cpus']} CPUs, "
        f"{machine['memory_gb']} GB RAM, Linux {machine['kernel']}, Python {machine['python']}; "
        f"{result['database']}. Load average (1, 5, 15 min) at the start "
        f"{machine.get('load_average_at_start')}, at the end {machine.get('load_average')}.",
        "",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in machine["libraries"].items()) + ".",
        "",
        f"Server: {cfg['server']}; pinned to CPU {cfg['server_pinned_cpu']}, load generator "
        f"to CPU {cfg['loadgen_cpu']} (None: not pinned). Rate limiting: "
        f"{cfg['rate_limiting']}. Each pass: {cfg['warmup_s']} s warm-up, "
        f"{cfg['duration_s']} s measured. Load generator ceiling (constant-response "
        f"server, c={cfg['concurrency']}): {_num(result['loadgen_ceiling']['requests_per_s'])} "
        "req/s.",
        "",
        f"Data set: {data['sessions']:,} sessions, {data['users']:,} users in 4 tenants, "
        f"{data['heavy_users']} heavy user(s) with {data['heavy_sessions']:,} sessions each, "
        f"typical user 40 sessions, {data['messages']:,} messages; seed {data['seed']}; "
        f"{_provenance(data)}; "
        f"counters: {data['counters']}.",
        "",
        *scenario_table(result),
        "",
        f"Streamed AISquare list of the heavy user ({data['heavy_sessions']:,} sessions, "
        f"{stream['bytes']:,} bytes), worst of {len(stream['runs'])}: first byte after "
        f"{stream['ttfb_ms_max']} ms, server RSS growth {stream['rss_growth_mb_max']} MB.",
        "",
    ]
    for name, s in result["scenarios"].items():
        for note in s.get("notes", []):
            lines.append(f"* `{name}`: {note}")
    if "writes" in result["scenarios"]:
        lines.append(f"* `writes`: req/s is message appends/s; its latencies are from the "
                     f"c={cfg['concurrency']} pass (creates and appends together), one writer "
                     "user per connection")  # fmt: skip
    lines += _extra_passes(result)
    lines += ["", "## Targets (this run)", "", *targets.markdown(targets.judge_run(result)), ""]
    return "\n".join(lines)


def _extra_passes(result: dict[str, Any]) -> list[str]:
    """The appends' database floor and the two-worker pass, where the run has them."""
    lines: list[str] = []
    floor = (result["scenarios"].get("writes") or {}).get("append_floor")
    if floor:
        lat = floor["latency"]
        lines += [
            "",
            "Appends' database floor (the append transaction straight through the driver, "
            f"c={floor['concurrency']}, durable): {_num(floor['appends_per_s'])} appends/s, "
            f"p50 {_ms(lat['p50_ms'])} ms, p99 {_ms(lat['p99_ms'])} ms.",
        ]
    two = result.get("two_workers") or {}
    if two.get("scenarios"):
        lines += [
            "",
            f"Two workers (`chatkeep serve --workers 2`, nothing pinned, c={two['concurrency']}):",
            "",
            "| scenario | req/s | p50 ms | p99 ms | errors |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, s in two["scenarios"].items():
            lat = s["latency"]
            lines.append(
                f"| {s['title']} (`{name}`) | {_num(s['requests_per_s'])} "
                f"| {_ms(lat['p50_ms'])} | {_ms(lat['p99_ms'])} | {s['errors']} |"
            )
    return lines


def write_summary(results_dir: Path, backend: str) -> list[Path]:
    """The cross-size summary (flat scaling) for one database, from the runs on file."""
    runs = load_runs(results_dir, backend)
    if not runs:
        return []
    verdicts = targets.judge_sizes(runs)
    sizes = [r["size"] for r in runs]
    lines = [f"# chatkeep benchmark summary: {backend}", "",
             "p99 latency in ms at one connection, by data set size:", "",
             "| scenario | " + " | ".join(sizes) + " |",
             "|---|" + "---:|" * len(sizes)]  # fmt: skip
    for name, scenario in runs[-1]["scenarios"].items():
        if scenario["writes"]:  # no one-connection pass: its own line below
            continue
        cells = [_ms(targets.figures(r["scenarios"][name])["p99"]) if name in r["scenarios"]
                 else "-" for r in runs]  # fmt: skip
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    appends = [_num(targets.figures(r["scenarios"]["writes"])["rps"]) if "writes" in
               r["scenarios"] else "-" for r in runs]  # fmt: skip
    lines += ["", "Message appends/s (writes scenario): " + ", ".join(
        f"{size}: {a}" for size, a in zip(sizes, appends, strict=True))]  # fmt: skip
    lines += ["", "## Targets", "", *targets.markdown(verdicts), ""]
    for run in runs:
        lines.append(f"* {run['size']}: see [{run_stem(run)}.md]({run_stem(run)}.md)")
    summary = {"backend": backend, "sizes": sizes, "verdicts": verdicts}
    md = results_dir / f"summary-{backend}.md"
    js = results_dir / f"summary-{backend}.json"
    md.write_text("\n".join(lines) + "\n")
    js.write_text(json.dumps(summary, indent=1) + "\n")
    return [md, js]
