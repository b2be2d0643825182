"""The route class of every AI-doc endpoint: one request id, every failure Alibaba-shaped."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from chatkeep.api.aidoc.errors import (
    REQUEST_ID_HEADER,
    AidocError,
    render_aidoc_error,
    request_id,
)
from chatkeep.api.aidoc.signature import AcsAuthError
from chatkeep.api.aidoc.translate import translate
from chatkeep.core.errors import ChatkeepError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class AidocRoute(APIRoute):
    """Translates failures here, where the refused action (the route's name) is known.

    The request's transaction has already rolled back when an error arrives here (the
    unit of work is function-scoped), so a rejected request changes nothing. Failures
    outside any route (404, 405, 413, database outages) go through the app's handlers
    to ``render_aidoc_problem`` instead.
    """

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        action = f"energy:{self.name}"

        async def aidoc_handler(request: Request) -> Response:
            rid = request_id(request)
            try:
                response = await handler(request)
            except (ChatkeepError, RequestValidationError, AcsAuthError, AidocError) as exc:
                principal = getattr(request.state, "aidoc_principal", None)
                response = render_aidoc_error(request, translate(exc, action, principal))
            response.headers[REQUEST_ID_HEADER] = rid
            return response

        return aidoc_handler
