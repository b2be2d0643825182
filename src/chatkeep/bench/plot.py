"""The latency-vs-data-set-size curve: p50 and p99 per scenario, one PNG per database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chatkeep.bench.targets import figures


def plot_latency(runs: list[dict[str, Any]], out: Path) -> Path | None:
    """Draw p50 (dashed) and p99 (solid) against sessions, log-scaled; None if no runs."""
    if not runs:
        return None
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    sizes = [r["sessions"] for r in runs]
    names = [n for n, s in runs[-1]["scenarios"].items() if not s["writes"]]
    fig, ax = plt.subplots(figsize=(10, 6))
    for name in names:
        p99, p50 = _series(runs, name, "p99"), _series(runs, name, "p50")
        (line,) = ax.plot(sizes, p99, marker="o", label=f"{name} p99")
        ax.plot(sizes, p50, marker=".", linestyle="--", color=line.get_color(), alpha=0.6)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(sizes, [r["size"] for r in runs])  # 10k, 100k, 1m: the sizes people type
    ax.yaxis.set_major_formatter(ScalarFormatter())  # 20, not 2x10^1
    ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("sessions in the data set")
    ax.set_ylabel("latency, ms (one connection; solid p99, dashed p50)")
    ax.set_title(f"chatkeep list latency vs data set size ({runs[-1]['backend']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def _series(runs: list[dict[str, Any]], name: str, figure: str) -> list[float]:
    """One figure across runs; NaN (a gap in the line) where a run lacks the scenario."""
    return [
        float(figures(r["scenarios"][name])[figure] or "nan") if name in r["scenarios"] else
        float("nan")
        for r in runs
    ]  # fmt: skip
