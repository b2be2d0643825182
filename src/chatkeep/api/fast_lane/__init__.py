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

from fastapi import FastAPI
from sqlalchemy.engine import make_url

from chatkeep.api.fast_lane import aidoc, aisquare, messages, native
from chatkeep.api.fast_lane.lane import FastLane
from chatkeep.api.problems import DialectRouter
from chatkeep.core.repository import hot_appends, hot_lists
from chatkeep.db.direct import DirectReads
from chatkeep.runtime import Runtime

__all__ = ["FastLane", "install_fast_lane"]

ROUTES = [*aisquare.ROUTES, *aidoc.ROUTES, *native.ROUTES, *messages.ROUTES]


def install_fast_lane(
    app: FastAPI, runtime: Runtime, reads: DirectReads | None, dialects: DialectRouter
) -> None:
    """Put the lane in front of the framework (call before adding the request layer)."""
    if reads is None:
        return
    backend = make_url(runtime.settings.database_url).get_backend_name()
    for stmt in (*hot_lists.EVERY, *hot_appends.EVERY):  # compiled now, not on first use
        stmt.compiled(backend)
    app.add_middleware(
        FastLane, runtime=runtime, reads=reads, routes=ROUTES, dialects=dialects, backend=backend
    )
