"""The route class of every AI-doc endpoint: one request id, every failure Alibaba-shaped."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

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
    """Translates failures where the refused action (the route's name) is known.

    A failure is translated inside the handler but *raised* on, out through FastAPI's
    function-scoped exit stack, so the request's unit of work rolls back and a rejected
    request changes nothing (not even a signature nonce); only then, outside that stack,
    is it rendered. Failures outside any route (404, 405, 413, database outages) go
    through the app's handlers to ``render_aidoc_problem`` instead.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Here, around the whole route (an included route's too), not around self.app.
        try:
            await super().handle(scope, receive, send)
        except AidocError as error:
            await render_aidoc_error(Request(scope), error)(scope, receive, send)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        action = f"energy:{self.name}"

        async def aidoc_handler(request: Request) -> Response:
            rid = request_id(request)
            try:
                response = await handler(request)
            except (ChatkeepError, RequestValidationError, AcsAuthError) as exc:
                principal = getattr(request.state, "aidoc_principal", None)
                raise translate(exc, action, principal) from exc
            response.headers[REQUEST_ID_HEADER] = rid
            return response

        return aidoc_handler
