"""The route class of every AI-doc endpoint: its response carries the request's id.

Failures are not handled here: they propagate out of the route (so its unit of work rolls
back) to the app's handlers and the dialect's one renderer (errors.py), which stamps the
same id on the error.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from chatkeep.api.aidoc.errors import REQUEST_ID_HEADER, request_id

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class AidocRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def aidoc_handler(request: Request) -> Response:
            rid = request_id(request)
            response = await handler(request)
            response.headers[REQUEST_ID_HEADER] = rid
            return response

        return aidoc_handler
