"""The ASGI layer: route table, fall-through, replay of a body it has read, the response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkeep.api.credentials import scheme_token
from chatkeep.api.outages import database_problem
from chatkeep.api.problems import DialectRouter, Problem, ProblemKind
from chatkeep.api.ratelimit import admit
from chatkeep.core.auth import key_lookup, verify_api_key
from chatkeep.core.errors import ChatkeepError, RateLimited
from chatkeep.core.repository import hot_lists
from chatkeep.core.types import Principal
from chatkeep.db.direct import CommitFailed, DirectReadFailed, DirectReads, Snapshot

if TYPE_CHECKING:
    from chatkeep.runtime import Runtime

UNAVAILABLE = Problem(ProblemKind.UNAVAILABLE, "The database did not confirm the commit; retry.",
                      503, headers={"Retry-After": "1"})  # fmt: skip
BODY_MAX = 64 * 1024  # a larger body (a long message) takes the full path


class FallThrough(Exception):
    """This request is not one the lane answers: the full path takes it."""


@dataclass(slots=True)
class Answer:
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    status: int = 200


@dataclass(slots=True)
class HotRequest:
    """What a handler sees: the scope, the body (None: not read, too large or incomplete)."""

    scope: Scope
    body: bytes | None
    lane: FastLane

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return bytes(value)
        return None

    def bearer(self, schemes: tuple[str, ...]) -> str:
        """As ``api.credentials.authorization_token``; no usable header falls through."""
        raw = self.header(b"authorization")
        token = scheme_token(raw.decode("latin-1") if raw is not None else None, schemes)
        if token is None:
            raise FallThrough
        return token

    def json_body(self) -> bytes:
        """The body of a request sent as JSON, read whole; anything else falls through."""
        content_type = self.header(b"content-type") or b""
        if self.body is None or content_type.split(b";")[0].strip() != b"application/json":
            raise FallThrough
        return self.body

    async def authenticate(self, read: Snapshot, token: str) -> Principal:
        """The key's principal, checked exactly as the full path checks it."""
        try:
            lookup = key_lookup(token)
            found = await read.fetch(hot_lists.KEY_CHECK, {"lookup": lookup})
            principal = verify_api_key(found[0] if found else None, token)
        except ChatkeepError:  # the full path says why, in its dialect
            raise FallThrough from None
        return principal

    async def admit(self, principal: Principal) -> None:
        """``api.ratelimit.admit``, as every dialect calls it (at most once per request). A
        refused request falls through: the full path counts it once more (past the limit
        already) and renders the 429 in its dialect."""
        try:
            await admit(Request(self.scope), principal)
        except RateLimited:
            raise FallThrough from None


Handler = Callable[[HotRequest], Awaitable[Answer]]


@dataclass(frozen=True, slots=True)
class HotRoute:
    """A route; as ``scope["route"]`` its path is the template that labels the metrics and
    the access log, the same the framework's route gives these paths. A template with one
    ``{parameter}`` segment matches any value there (the handler parses it)."""

    method: str
    path: str
    handler: Handler

    @property
    def affixes(self) -> tuple[str, str] | None:
        """The literal text around the one parameter, or None for a static path."""
        head, brace, rest = self.path.partition("{")
        return None if not brace else (head, rest.partition("}")[2])


class FastLane:
    def __init__(
        self, app: ASGIApp, *, runtime: Runtime, reads: DirectReads, routes: list[HotRoute],
        dialects: DialectRouter, backend: str,
    ) -> None:  # fmt: skip
        self.app = app
        self.runtime = runtime
        self.reads = reads
        self.dialects = dialects
        self.backend = backend  # "sqlite" or "postgresql"
        self.routes = {(r.method, r.path): r for r in routes if r.affixes is None}
        self.patterns = [(r, r.affixes) for r in routes if r.affixes is not None]

    def match(self, method: str, path: str) -> HotRoute | None:
        found = self.routes.get((method, path))
        if found is not None or not self.patterns:
            return found
        for route, (head, tail) in self.patterns:
            if route.method == method and path.startswith(head) and path.endswith(tail):
                middle = path[len(head) : len(path) - len(tail)]
                if middle and "/" not in middle:
                    return route
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (route := self.match(scope["method"], scope["path"])) is None:
            await self.app(scope, receive, send)
            return
        body: bytes | None = b""
        if scope["method"] == "POST":
            body, receive = await _read_small_body(scope, receive)
        try:
            answer = await route.handler(HotRequest(scope, body, self))
        except (FallThrough, DirectReadFailed, ChatkeepError):  # the full path answers
            await self.app(scope, receive, send)
            return
        except CommitFailed as exc:  # maybe committed: answered here, never tried again
            scope["route"] = route
            problem = database_problem(exc.__cause__ or exc) or UNAVAILABLE
            await self.dialects.render(Request(scope), problem)(scope, receive, send)
            return
        scope["route"] = route
        headers = [
            (b"content-length", str(len(answer.body)).encode()),
            (b"content-type", b"application/json"),
            *answer.headers,
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


async def _read_small_body(scope: Scope, receive: Receive) -> tuple[bytes | None, Receive]:
    """The body if it is declared and small, and a ``receive`` that replays what was read
    (or re-raises what reading it raised: a body limit the full path then renders)."""
    declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if declared is None or not declared.isdigit() or int(declared) > BODY_MAX:
        return None, receive
    messages: list[Message] = []
    failure: BaseException | None = None
    chunks = []
    try:
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
    except ChatkeepError as exc:
        failure = exc

    async def replay() -> Message:
        if messages:
            return messages.pop(0)
        if failure is not None:
            raise failure
        return await receive()

    complete = failure is None and bool(messages) and messages[-1]["type"] == "http.request"
    return (b"".join(chunks) if complete else None), replay
