"""Request body limits: size, enforced before parsing and while reading, and arrival time.

A declared ``Content-Length`` over the limit is answered at once, before any handler
runs; a chunked body, or one whose ``Content-Length`` understates it, is cut off as soon
as the bytes read pass the limit. A body still incomplete ``timeout`` seconds after the
app first asked for it (a client dribbling bytes to hold a worker) is answered 408.
Both answers close the connection: the rest of the body is never read.
"""

from __future__ import annotations

import asyncio
import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope

from chatkeep.api.problems import DialectRouter, Problem, ProblemKind

CLOSE = {"Connection": "close"}
# Document uploads carry files (CHATKEEP_DOCUMENTS_MAX_BYTES), not JSON: their own limit.
UPLOAD_PATH = re.compile(r"^/v1/domains/[^/]+/documents/?$")
MULTIPART_OVERHEAD = 64 * 1024


class BodyTooLarge(HTTPException):
    # An HTTPException so the framework's body parsing passes it through untouched.
    def __init__(self, limit: int) -> None:
        super().__init__(
            413, f"The request body exceeds the limit of {limit} bytes.", headers=CLOSE
        )


class BodyTooSlow(HTTPException):
    def __init__(self, timeout: float) -> None:
        super().__init__(
            408, f"The request body did not arrive within {timeout:g} seconds.", headers=CLOSE
        )


class BodyLimits:
    """The limits one request's body is held to; applied by the request layer."""

    def __init__(
        self,
        max_bytes: int,
        dialects: DialectRouter,
        timeout: float = 30.0,
        upload_max_bytes: int | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes
        self.dialects = dialects
        self.timeout = timeout

    def refusal(self, scope: Scope, max_bytes: int) -> Response | None:
        """The 413 for a declared ``Content-Length`` over the limit, before anything runs."""
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > max_bytes:
                    problem = Problem(
                        ProblemKind.TOO_LARGE, BodyTooLarge(max_bytes).detail, 413, headers=CLOSE
                    )
                    return self.dialects.render(Request(scope), problem)
                break
        return None

    def limited(self, receive: Receive, max_bytes: int) -> Receive:
        """``receive``, cut off once the body passes ``max_bytes`` or its time runs out."""
        seen = 0
        complete = False
        deadline: float | None = None
        timeout = self.timeout

        async def limited_receive() -> Message:
            nonlocal seen, complete, deadline
            if complete:  # later calls only wait for a disconnect (e.g. while streaming)
                return await receive()
            loop = asyncio.get_running_loop()
            deadline = deadline or loop.time() + timeout
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTooSlow(timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise BodyTooLarge(max_bytes)
                complete = not message.get("more_body", False)
            return message

        return limited_receive

    def limit_for(self, scope: Scope) -> int:
        if (
            self.upload_max_bytes is not None
            and scope["method"] == "POST"
            and UPLOAD_PATH.match(scope["path"])
        ):
            return max(self.max_bytes, self.upload_max_bytes + MULTIPART_OVERHEAD)
        return self.max_bytes
