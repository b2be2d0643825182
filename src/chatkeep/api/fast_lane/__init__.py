"""The fast lane: the hot requests answered without the framework's per-request work.

``FastLane`` sits inside the request layer (so ids, metrics and the access log are as for
any request) and in front of the framework. It answers a request only when it is exactly
the common, valid form of a hot list or append (a known route, a bearer key, parameters
it parses itself); anything else, and anything that goes wrong before a commit, falls
through to the full path, which answers it (errors included) in its dialect as before.
Whatever it answers is what the full path would (``tests/api/test_fast_lane.py``
compares them), from the same statements, run on the driver directly (``db/direct.py``).
See docs/decisions.md, "The fast lane".
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import make_url
from starlette.types import ASGIApp

from chatkeep.api.fast_lane import aidoc, aisquare, messages, native
from chatkeep.api.fast_lane.lane import FastLane
from chatkeep.api.problems import DialectRouter
from chatkeep.core.repository import hot_appends, hot_lists
from chatkeep.db.direct import DirectReads
from chatkeep.runtime import Runtime

__all__ = ["FastLane", "fast_lane"]

ROUTES = [*aisquare.ROUTES, *aidoc.ROUTES, *native.ROUTES, *messages.ROUTES]


def fast_lane(
    runtime: Runtime, reads: DirectReads | None, dialects: DialectRouter
) -> Callable[[ASGIApp], ASGIApp]:
    """The lane in front of ``app`` (the framework), or ``app`` itself without direct reads."""
    if reads is None:
        return lambda app: app
    backend = make_url(runtime.settings.database_url).get_backend_name()
    for stmt in (*hot_lists.EVERY, *hot_appends.EVERY):  # compiled now, not on first use
        stmt.compiled(backend)

    def in_front_of(app: ASGIApp) -> ASGIApp:
        return FastLane(
            app, runtime=runtime, reads=reads, routes=ROUTES, dialects=dialects, backend=backend
        )

    return in_front_of
