"""Latency percentiles from raw per-request samples (nanoseconds), exact, not binned."""

from __future__ import annotations

import math
from typing import Any

PERCENTILES = (50, 90, 99)


def percentile(ordered: list[int], pct: float) -> int:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(samples_ns: list[int], duration_s: float) -> dict[str, Any]:
    """Count, rate and p50/p90/p99/max in milliseconds; empty samples give Nones."""
    ordered = sorted(samples_ns)
    summary: dict[str, Any] = {"count": len(ordered), "per_s": round(len(ordered) / duration_s, 1)}
    for pct in PERCENTILES:
        summary[f"p{pct}_ms"] = round(percentile(ordered, pct) / 1e6, 3) if ordered else None
    summary["max_ms"] = round(ordered[-1] / 1e6, 3) if ordered else None
    summary["mean_ms"] = round(sum(ordered) / len(ordered) / 1e6, 3) if ordered else None
    return summary
