"""The one middleware: request id, metrics, access log and body limits in a single layer.

Pure ASGI and outermost of chatkeep's own, so a refusal it makes itself (a 413 for a
declared length) and errors the framework renders are observed like any answer. One
layer instead of one per concern: each layer costs every request a call, a closure and a
wrapped ``send``/``receive``.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkeep.api.limits import BodyLimits
from chatkeep.api.metrics import Metrics
from chatkeep.api.observability import log_request, request_id, route_template


class RequestLayer:
    def __init__(
        self, app: ASGIApp, *, metrics: Metrics, log_requests: bool, body: BodyLimits
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests
        self.body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app dies before answering, the server sends a 500
        rid = ""

        async def observed_send(message: Message) -> None:
            nonlocal status, rid
            if message["type"] == "http.response.start":
                status = message["status"]
                rid = request_id(message)
            await send(message)

        try:
            max_bytes = self.body.limit_for(scope)
            refusal = self.body.refusal(scope, max_bytes)
            if refusal is not None:
                await refusal(scope, receive, observed_send)
            else:
                await self.app(scope, self.body.limited(receive, max_bytes), observed_send)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            if self.log_requests:
                log_request(scope, route, status, seconds, rid)
