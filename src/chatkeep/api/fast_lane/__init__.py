"""The fast lane: the hot list requests answered without the framework's per-request work.

``FastLane`` sits inside the request layer (so ids, metrics and the access log are as for
any request) and in front of the framework. It answers a request only when it is exactly
the common, valid form of a hot list (a known route, a bearer key, parameters it parses
itself); anything else, and anything that goes wrong, falls through to the full path,
which answers it (errors included) in its dialect as before. Whatever it answers is
byte-for-byte what the full path would (``tests/api/test_fast_lane.py`` compares them),
from the same statements, run on the driver directly (``db/direct.py``).
"""

from __future__ import annotations

from chatkeep.api.fast_lane.lane import FastLane, install_fast_lane

__all__ = ["FastLane", "install_fast_lane"]
