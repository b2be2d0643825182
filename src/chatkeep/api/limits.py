"""Request body size limit, enforced before parsing and while reading.

A declared ``Content-Length`` over the limit is answered at once, before any handler
runs; a chunked body, or one whose ``Content-Length`` understates it, is cut off as soon
as the bytes read pass the limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkeep.api.problems import DialectRouter, Problem, ProblemKind


class BodyTooLarge(HTTPException):
    # An HTTPException so the framework's body parsing passes it through untouched.
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body exceeds the limit of {limit} bytes.")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, dialects: DialectRouter) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.dialects = dialects

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            problem = Problem(ProblemKind.TOO_LARGE, BodyTooLarge(self.max_bytes).detail, 413)
            response = self.dialects.render(Request(scope), problem)
            response.headers["Connection"] = "close"
            await response(scope, receive, send)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, limited_receive, send)
