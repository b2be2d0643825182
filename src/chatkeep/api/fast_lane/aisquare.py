"""AISquare's ``GET /api/v1/qllm/chat-sessions/``, the common form: a key, at most a
``domain_id``, a list short enough to answer in one piece."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl

from chatkeep.api.aisquare.deps import SCHEMES
from chatkeep.api.aisquare.sessions import SMALL_LIST, encode_chat_sessions
from chatkeep.api.fast_lane.lane import Answer, FallThrough, HotRequest, HotRoute
from chatkeep.core.auth import require
from chatkeep.core.repository import hot_lists
from chatkeep.core.types import Scope

LIST_PATH = "/api/v1/qllm/chat-sessions/"


def _domain_filter(query_string: bytes) -> uuid.UUID | None:
    if not query_string:
        return None
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "domain_id":
        raise FallThrough  # another parameter (a page, a user): the full path
    value = pairs[0][1]
    if value == "":  # django-filter's "no filter"
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise FallThrough from None  # the full path says why


async def list_chat_sessions(request: HotRequest) -> Answer:
    token = request.bearer(SCHEMES)
    domain_id = _domain_filter(request.scope["query_string"])
    async with request.lane.reads.snapshot(consistent=False) as read:
        principal = await request.authenticate(read, token)
        require(principal, Scope.SESSIONS_READ, "list sessions")
        params = {"tenant_id": principal.tenant_id, "user_pk": principal.user_pk,
                  "limit": SMALL_LIST + 1}  # fmt: skip
        if domain_id is None:
            found = await read.fetch(hot_lists.RECENT, params)
        else:
            found = await read.fetch(hot_lists.RECENT_IN_DOMAIN, {**params, "domain_id": domain_id})
    if len(found) > SMALL_LIST:
        raise FallThrough  # a long list is streamed by the full path
    await request.admit(principal)
    return Answer(encode_chat_sessions(found))


ROUTES = [HotRoute("GET", LIST_PATH, list_chat_sessions)]
