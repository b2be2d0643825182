"""Run the benchmark at each size, write every file, print each run's table."""

from __future__ import annotations

from pathlib import Path

import click

from chatkeep.bench.plot import plot_latency
from chatkeep.bench.report import load_runs, run_markdown, write_run, write_summary
from chatkeep.bench.runner import BenchOptions, run_size


def run_benchmark(options: BenchOptions, sizes: list[str], results_dir: Path) -> list[Path]:
    written: list[Path] = []
    backend = ""
    for size in sizes:
        result = run_size(options, size, lambda line: click.echo(line, err=True))
        backend = result["backend"]
        written += write_run(result, results_dir)
        click.echo(run_markdown(result))
    written += write_summary(results_dir, backend)
    plot = plot_latency(load_runs(results_dir, backend), results_dir / f"latency-{backend}.png")
    if plot is not None:
        written.append(plot)
    click.echo("wrote " + ", ".join(str(p) for p in written), err=True)
    return written
