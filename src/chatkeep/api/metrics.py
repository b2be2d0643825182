"""Prometheus metrics: request counts and latency by route template and status, pool use.

Each app has its own registry (tests build many apps in one process). With
``chatkeep serve --workers N`` every worker keeps its own counters and a scrape is
answered by whichever worker accepts it: scrape each worker (one per container/pod), or
sum over a short window; see README "Security and limits".
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

LABELS = ("method", "route", "status")


class PoolCollector(Collector):
    """The database pool, read at scrape time (nothing to update per request)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._pool = engine.sync_engine.pool

    def collect(self) -> Iterator[Metric]:
        in_use = GaugeMetricFamily(
            "chatkeep_db_pool_connections_in_use", "Database connections checked out now."
        )
        size = GaugeMetricFamily(
            "chatkeep_db_pool_size", "Connections the pool keeps open (overflow comes on top)."
        )
        checked_out = getattr(self._pool, "checkedout", None)
        pool_size = getattr(self._pool, "size", None)
        if callable(checked_out) and callable(pool_size):
            in_use.add_metric([], float(checked_out()))
            size.add_metric([], float(pool_size()))
        yield in_use
        yield size


class Metrics:
    def __init__(self, engine: AsyncEngine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "chatkeep_http_requests", "HTTP requests answered.", LABELS, registry=self.registry
        )
        self.latency = Histogram(
            "chatkeep_http_request_duration_seconds",
            "Time from receiving a request to sending its last byte.",
            LABELS,
            registry=self.registry,
        )
        self.registry.register(PoolCollector(engine))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        labels = (method, route, str(status))
        self.requests.labels(*labels).inc()
        self.latency.labels(*labels).observe(seconds)

    async def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
