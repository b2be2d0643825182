"""The native ``GET /v1/sessions``, the common form: a Bearer key, the recent order, at
most ``limit`` and ``cursor``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from chatkeep.api.fast_lane.lane import Answer, FallThrough, HotRequest, HotRoute
from chatkeep.api.native.schemas import Page, SessionOut
from chatkeep.core.auth import require
from chatkeep.core.limits import CURSOR_MAX, PAGE_MAX
from chatkeep.core.repository import hot_lists
from chatkeep.core.sessions import cursor_page, list_fingerprint
from chatkeep.core.types import Scope, SessionFilter, SessionListQuery, SessionOrder

LIST_PATH = "/v1/sessions"
LIMIT_DEFAULT = 20


def _query(query_string: bytes) -> tuple[int, str | None]:
    """``limit`` (plain digits, 1 to PAGE_MAX) and ``cursor``, each at most once."""
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= {"limit", "cursor"}:
        raise FallThrough  # another parameter, a repeated one: the full path
    raw_limit = params.get("limit", str(LIMIT_DEFAULT))
    if not (raw_limit.isascii() and raw_limit.isdigit() and 1 <= int(raw_limit) <= PAGE_MAX):
        raise FallThrough  # the full path says why (or parses a form this does not)
    cursor = params.get("cursor")
    if cursor is not None and not 0 < len(cursor) <= CURSOR_MAX:
        raise FallThrough
    return int(raw_limit), cursor


async def list_sessions(request: HotRequest) -> Answer:
    token = request.bearer(("bearer",))
    limit, cursor = _query(request.scope["query_string"])
    query = SessionListQuery(SessionFilter(), SessionOrder.RECENT, limit, cursor)
    cursors = request.lane.runtime.config.cursors
    async with request.lane.reads.snapshot(consistent=False) as read:
        principal = await request.authenticate(read, token)
        require(principal, Scope.SESSIONS_READ, "list sessions")
        fp = list_fingerprint(principal.user_pk, query.filter, query.order)
        params: dict[str, Any] = {"tenant_id": principal.tenant_id,
                                  "user_pk": principal.user_pk, "limit": limit + 1}  # fmt: skip
        stmt = hot_lists.NATIVE_FIRST
        if cursor is not None:
            pinned, params["after_recent_at"], params["after_id"] = _after(
                cursors.decode(cursor, fp)
            )
            stmt = hot_lists.NATIVE_AFTER_PINNED if pinned else hot_lists.NATIVE_AFTER_UNPINNED
        found = await read.fetch(stmt, params)
    await request.admit(principal)
    page = cursor_page(cursors, fp, found, query, principal.user_id)
    items = [SessionOut.of(s) for s in page.items]
    body = Page[SessionOut](data=items, next_cursor=page.next_cursor, has_more=page.has_more)
    return Answer(orjson.dumps(body.model_dump(mode="json", by_alias=True)))


def _after(key: tuple[Any, ...]) -> tuple[bool, datetime, int]:
    """The recent order's sort key from a cursor (signed by us for this very query)."""
    match key:
        case (bool() as pinned, datetime() as recent_at, int() as session_id):
            return pinned, recent_at, session_id
    raise FallThrough


ROUTES = [HotRoute("GET", LIST_PATH, list_sessions)]
