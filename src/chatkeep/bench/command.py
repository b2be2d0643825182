"""``chatkeep bench``: the click command. Imports the harness only when run, so the
server's own install (without the bench dependency group) still loads the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import click

DEFAULT_SQLITE = "sqlite:///bench/data/bench.db"  # only the backend matters: files are per size


def backend_url(configured: str | None) -> str:
    """PostgreSQL when CHATKEEP_DATABASE_URL names a PostgreSQL server, else SQLite."""
    if configured and configured.split(":", 1)[0].startswith("postgres"):
        return configured
    return DEFAULT_SQLITE


@click.command("bench")
@click.option(
    "--sessions",
    "sizes",
    multiple=True,
    default=["10k"],
    show_default=True,
    help="Data set size (10k, 100k, 1m, 10m); repeat for several.",
)
@click.option(
    "--database-url",
    default=None,
    help="Default: CHATKEEP_DATABASE_URL if it is PostgreSQL, else SQLite files.",
)
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--warmup", default=3.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--duration", default=10.0, show_default=True, type=click.FloatRange(min=0.1))
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 1024))
@click.option("--sql-seconds", default=2.0, show_default=True, type=click.FloatRange(min=0.1))
@click.option("--scenario", "only", multiple=True, help="Run only these (repeatable).")
@click.option(
    "--pin/--no-pin",
    default=True,
    show_default=True,
    help="Pin the server to CPU 0 and the load generator to CPU 1.",
)
@click.option("--fresh", is_flag=True, help="Rebuild the data set even if one is kept.")
@click.option(
    "--results-dir",
    type=click.Path(path_type=Path),
    default=Path("bench/results"),
    show_default=True,
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def bench(
    sizes: tuple[str, ...], database_url: str | None, seed: int, warmup: float,
    duration: float, concurrency: int, sql_seconds: float, only: tuple[str, ...], pin: bool,
    fresh: bool, results_dir: Path, progress: bool,
) -> None:  # fmt: skip
    """Benchmark the real server on a generated data set (docs/benchmark.md)."""
    try:
        from chatkeep.bench.main import run_benchmark
    except ImportError as exc:
        raise click.ClickException(
            f"the benchmark needs its dependency group ({exc.name}): uv sync --group bench"
        ) from None
    from chatkeep.bench.dataset import parse_size
    from chatkeep.bench.runner import BenchOptions

    for size in sizes:
        try:
            parse_size(size)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--sessions") from None
    options = BenchOptions(
        base_url=database_url or backend_url(os.environ.get("CHATKEEP_DATABASE_URL")),
        seed=seed, warmup=warmup, duration=duration, concurrency=concurrency,
        sql_seconds=sql_seconds, pin=pin, fresh=fresh, progress=progress,
        only=frozenset(only), work_dir=results_dir / "tmp",
    )  # fmt: skip
    run_benchmark(options, list(sizes), results_dir)
