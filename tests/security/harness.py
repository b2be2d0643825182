"""Drive the in-process ASGI app from synchronous code (Hypothesis state machines).

Hypothesis runs rules synchronously; the app, its engine and the httpx client live on one
event loop in a blocking portal's thread, and every call crosses into it.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx
import orjson
from anyio.from_thread import BlockingPortal, start_blocking_portal
from sqlalchemy import select

from chatkeep.app import create_app
from chatkeep.core.models import ChatSession
from chatkeep.settings import Settings
from tests.api.aidoc.sdk_signing import SdkSigner
from tests.conftest import empty_tables
from tests.factories import World

T = TypeVar("T")


@dataclass(frozen=True)
class Cred:
    """One credential of the model: who it is, what it may do, and how it is presented."""

    name: str
    tenant: str
    user_id: str
    service: bool
    scopes: frozenset[str]
    api_key: str | None = None
    access_key: tuple[str, str] | None = None  # (id, secret) for ACS3 signatures

    def can(self, *scopes: str) -> bool:
        return "*" in self.scopes or all(s in self.scopes for s in scopes)

    @property
    def forms(self) -> dict[str, tuple[str, ...]]:
        """Credential forms each dialect accepts for this credential."""
        if self.access_key is not None:
            return {"aidoc": ("acs3",)}
        return {
            "native": ("bearer",),
            "aisquare": ("bearer", "token"),
            "aidoc": ("bearer", "acs-bearer"),
        }


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # JSON; for an event stream, the list of its events' ``data`` objects


def sse_data(text: str) -> list[Any]:
    """The JSON ``data`` of every event of a whole (finished) event stream."""
    return [
        orjson.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


class Harness:
    def __init__(self, portal: BlockingPortal, settings: Settings) -> None:
        self.portal = portal
        self.app = create_app(settings)
        self.world = World(self.app.state.chatkeep)
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test")
        self.requests = 0  # sent through send(), for the run's figures

    def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self.portal.call(fn, *args)

    def send(
        self,
        cred: Cred,
        form: str,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Reply:
        headers: dict[str, str] = {}
        content = orjson.dumps(body) if body is not None else None
        url = path + (f"?{urlencode(query)}" if query else "")
        if form == "acs3":
            assert cred.access_key is not None
            signed = SdkSigner(*cred.access_key).sign(method, path, body=body, query=query)
            headers, content, url = signed.headers, signed.body, signed.url
        else:
            assert cred.api_key is not None
            if content is not None:
                headers["content-type"] = "application/json"
            if form == "acs-bearer":
                headers["x-acs-bearer-token"] = cred.api_key
            else:
                scheme = "Token" if form == "token" else "Bearer"
                headers["authorization"] = f"{scheme} {cred.api_key}"
        request = functools.partial(
            self.client.request, method, url, headers=headers, content=content
        )
        response = self.call(request)
        self.requests += 1
        assert response.status_code < 500, (method, url, response.status_code, response.text)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return Reply(response.status_code, sse_data(response.text))
        return Reply(response.status_code, response.json() if response.content else None)

    def session_ids(self, *, int_id: int | None = None, uuid_: uuid.UUID | None = None) -> Any:
        """Bookkeeping only: the other id of a session a dialect named by one of its ids."""

        async def lookup(uow: Any) -> Any:
            where = ChatSession.id == int_id if int_id is not None else ChatSession.uuid == uuid_
            found = await uow.db.execute(select(ChatSession.id, ChatSession.uuid).where(where))
            return found.one()

        return self.call(functools.partial(self.world.run, lookup, write=False))


@contextmanager
def harness(settings: Settings) -> Iterator[Harness]:
    with start_blocking_portal() as portal:
        h = Harness(portal, settings)
        try:
            yield h
        finally:
            state = h.app.state.chatkeep
            portal.call(h.client.aclose)
            portal.call(empty_tables, state)
            portal.call(state.engine.dispose)
