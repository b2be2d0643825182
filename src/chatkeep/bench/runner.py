"""One benchmark run: a data set at one size on one database, every scenario, its floors."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from chatkeep.bench import measure, scenarios, sqlfloor
from chatkeep.bench.appendfloor import measure_append_floor
from chatkeep.bench.database import BenchDatabase, bench_database
from chatkeep.bench.dataset import NAME_QUERY, parse_size, plan_dataset, size_label
from chatkeep.bench.load import LoadedDataset, load_dataset
from chatkeep.bench.loadgen import WireRequest
from chatkeep.bench.machine import database_version, machine_info
from chatkeep.bench.scenarios import Scenario
from chatkeep.bench.server import (
    RATE_LIMIT_NOTE,
    RunningServer,
    bench_environment,
    bench_settings,
    chatkeep_command,
    constant_command,
    floor_command,
    free_port,
    running,
)
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.settings import Settings

Say = Callable[[str], None]

# The two-worker pass: the scenarios its targets name, at the concurrency they name.
TWO_WORKER_SCENARIOS = ("aisquare_list", "aidoc_list_heavy")
TWO_WORKER_CONCURRENCY = 16
# The first ready worker answers the readiness check while the other may still be starting
# (each loads the embedded model): warm up at least this long before the measured window.
TWO_WORKER_MIN_WARMUP = 5.0


@dataclass(frozen=True, slots=True)
class BenchOptions:
    base_url: str  # the backend: a SQLite URL or a PostgreSQL server's URL
    seed: int = 1
    warmup: float = 3.0
    duration: float = 10.0
    concurrency: int = 8  # the throughput pass; the latency pass uses one connection
    sql_seconds: float = 2.0
    pin: bool = True
    fresh: bool = False
    progress: bool = True
    only: frozenset[str] = field(default_factory=frozenset)  # scenario names; empty = all
    data_dir: Path = Path("bench/data")
    work_dir: Path = Path("bench/results/tmp")


def run_size(options: BenchOptions, size: str, say: Say) -> dict[str, Any]:
    """Everything measured at one size, as the JSON the report is written from."""
    label = size_label(parse_size(size))
    db = bench_database(options.base_url, label, options.seed, options.data_dir)
    shown = make_url(db.url).render_as_string(hide_password=True)  # never print a password
    say(f"[{db.backend} {label}] data set in {shown}")
    load_before = [round(x, 2) for x in os.getloadavg()]
    data, reused = asyncio.run(_prepare(db, label, options, say))
    settings = bench_settings(db.url)
    env = bench_environment(db.url)
    work = options.work_dir / f"{db.backend}-{label}"
    port = free_port()
    with running(chatkeep_command(port), port, env, work / "server.log", pin=options.pin) as srv:
        with httpx.Client(base_url=srv.base_url, timeout=120) as client:
            chosen = [s for s in scenarios.build_scenarios(data, client)
                      if not options.only or s.name in options.only]  # fmt: skip
            results, captured = _run_chatkeep(srv, client, chosen, options, say)
        say(f"[{db.backend} {label}] streamed AISquare list of the heavy user")
        stream = measure.measure_stream(srv, data.keys["heavy-0"], scenarios.AISQUARE_LIST)
        server_pinned = srv.pinned
    if "writes" in results:
        say(f"[{db.backend} {label}] appends' database floor (the bare transaction)")
        results["writes"]["append_floor"] = measure_append_floor(
            db.url, options.concurrency, options.warmup, options.duration
        )
    two_workers = _run_two_workers(data, env, work, chosen, options, say)
    responses = work / "responses.json"
    responses.write_text(json.dumps(captured))
    _run_floor(responses, env, chosen, results, options, say)
    ceiling = _loadgen_ceiling(env, options, work, say)
    asyncio.run(_sql_floor(settings, chosen, results, options, say))
    return {
        "backend": db.backend, "size": label, "sessions": data.sessions,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**machine_info(), "load_average_at_start": load_before},
        "database": asyncio.run(_db_version(settings)),
        "dataset": {**data.__dict__, "keys": sorted(data.keys), "reused": reused,
                    "name_query": NAME_QUERY},
        "settings": _settings_note(options, server_pinned),
        "loadgen_ceiling": ceiling, "stream": stream, "scenarios": results,
        "two_workers": two_workers,
    }  # fmt: skip


async def _prepare(
    db: BenchDatabase, label: str, options: BenchOptions, say: Say
) -> tuple[LoadedDataset, bool]:
    if not options.fresh and (found := db.load_manifest()) is not None and await db.exists():
        say(f"  reusing the data set (manifest {db.manifest}); --fresh rebuilds it")
        return found, True
    plan = plan_dataset(parse_size(label), options.seed)
    say(f"  generating {plan.sessions:,} sessions for {len(plan.users):,} users "
        f"(heavy users: {plan.heavy_count} x {plan.heavy_sessions:,})")  # fmt: skip
    await db.recreate()
    settings = bench_settings(db.url)
    await asyncio.to_thread(upgrade_to_head, settings)
    from chatkeep.runtime import Runtime

    state = Runtime.build(settings)
    try:
        loaded = await load_dataset(state, plan, options.progress)
    finally:
        await state.engine.dispose()
    db.save_manifest(loaded)
    say(f"  loaded in {loaded.load_seconds:.1f} s {loaded.extra.get('phases', {})}")
    return loaded, False


def _run_chatkeep(
    server: RunningServer, client: httpx.Client, chosen: list[Scenario], options: BenchOptions,
    say: Say,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    results: dict[str, dict[str, Any]] = {}
    captured: list[dict[str, Any]] = []
    for scenario in chosen:
        say(f"  {scenario.title}")
        shots = _capture_scenario(client, scenario)
        captured += shots
        entry: dict[str, Any] = {"title": scenario.title, "page_one": scenario.page_one,
                                 "writes": scenario.writes, "notes": scenario.notes,
                                 "response_bytes": shots[-1]["bytes"]}  # fmt: skip
        appends = scenarios.APPENDS_PER_SESSION if scenario.writes else 0
        if not scenario.writes:  # one connection: latency without queueing
            entry["latency_pass"] = measure.run_loadgen(
                server, scenario.requests, concurrency=1, warmup=options.warmup,
                duration=options.duration, pin=options.pin,
            )  # fmt: skip
        entry["throughput_pass"] = measure.run_loadgen(
            server, scenario.requests, concurrency=options.concurrency, warmup=options.warmup,
            duration=options.duration, appends_per_session=appends, pin=options.pin,
        )  # fmt: skip
        results[scenario.name] = entry
    return results, captured


def _run_two_workers(
    data: LoadedDataset, env: dict[str, str], work: Path, chosen: list[Scenario],
    options: BenchOptions, say: Say,
) -> dict[str, Any]:  # fmt: skip
    """``chatkeep serve --workers 2`` on both CPUs, ``TWO_WORKER_CONCURRENCY`` connections:
    the deployment the two-worker targets speak of. Nothing is pinned (the workers and the
    load generator share the two CPUs), so no server CPU per request is reported."""
    picked = [s for s in chosen if s.name in TWO_WORKER_SCENARIOS]
    if not picked:
        return {}
    port = free_port()
    command = [*chatkeep_command(port), "--workers", "2"]
    out: dict[str, Any] = {"concurrency": TWO_WORKER_CONCURRENCY, "scenarios": {}}
    with running(command, port, env, work / "server-2-workers.log", pin=False) as srv:
        for scenario in picked:
            say(f"  two workers, c={TWO_WORKER_CONCURRENCY}: {scenario.title}")
            result = measure.run_loadgen(
                srv, scenario.requests, concurrency=TWO_WORKER_CONCURRENCY,
                warmup=max(options.warmup, TWO_WORKER_MIN_WARMUP), duration=options.duration,
                pin=False,
            )  # fmt: skip
            result.pop("server", None)  # the master's CPU only: not the workers'
            out["scenarios"][scenario.name] = {"title": scenario.title, **result}
    return out


def _capture_scenario(client: httpx.Client, scenario: Scenario) -> list[dict[str, Any]]:
    if not scenario.writes:
        return [measure.capture(client, scenario.requests[0])]
    create, append = scenario.requests[:2]
    made = measure.capture(client, create)
    session_id = json.loads(made["body"])["id"]
    return [made, measure.capture(client, append, append.path.replace("{id}", session_id))]


def _run_floor(
    responses: Path, env: dict[str, str], chosen: list[Scenario],
    results: dict[str, dict[str, Any]], options: BenchOptions, say: Say,
) -> None:  # fmt: skip
    port = free_port()
    log = responses.parent / "floor.log"
    with running(floor_command(port, responses), port, env, log, pin=options.pin) as floor:
        for scenario in chosen:
            say(f"  floor: {scenario.title}")
            appends = scenarios.APPENDS_PER_SESSION if scenario.writes else 0
            results[scenario.name]["floor_pass"] = measure.run_loadgen(
                floor, scenario.requests, concurrency=options.concurrency,
                warmup=options.warmup, duration=options.duration,
                appends_per_session=appends, pin=options.pin,
            )  # fmt: skip


def _loadgen_ceiling(
    env: dict[str, str], options: BenchOptions, work: Path, say: Say
) -> dict[str, Any]:
    """The load generator against a constant-response server: its own maximum rate."""
    say("  load generator ceiling (constant-response server)")
    port = free_port()
    command = constant_command(port)
    with running(command, port, env, work / "constant.log", pin=options.pin,
                 ready_path=None) as const:  # fmt: skip
        result = measure.run_loadgen(
            const, [WireRequest("GET", "/")], concurrency=options.concurrency,
            warmup=min(options.warmup, 1.0), duration=min(options.duration, 5.0), pin=options.pin,
        )  # fmt: skip
    return {"requests_per_s": result["requests_per_s"], "p99_ms": result["latency"]["p99_ms"]}


async def _sql_floor(
    settings: Settings, chosen: list[Scenario], results: dict[str, dict[str, Any]],
    options: BenchOptions, say: Say,
) -> None:  # fmt: skip
    for scenario in chosen:
        if scenario.writes:
            results[scenario.name]["sql"] = None  # see docs/benchmark.md: reads only
            continue
        say(f"  SQL floor: {scenario.title}")
        captured = await sqlfloor.capture_statements(settings, scenario.requests[0])
        results[scenario.name]["sql"] = await sqlfloor.time_statements(
            settings, captured, options.sql_seconds
        )


async def _db_version(settings: Settings) -> str:
    from chatkeep.runtime import Runtime

    state = Runtime.build(settings)
    try:
        return await database_version(state)
    finally:
        await state.engine.dispose()


def _settings_note(options: BenchOptions, server_pinned: bool) -> dict[str, Any]:
    return {
        "server": "chatkeep serve --host 127.0.0.1 (1 worker, default settings, access log on)",
        "server_pinned_cpu": 0 if server_pinned else None,
        "loadgen_cpu": 1 if server_pinned else None,
        "concurrency": options.concurrency,
        "warmup_s": options.warmup,
        "duration_s": options.duration,
        "rate_limiting": RATE_LIMIT_NOTE,
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
