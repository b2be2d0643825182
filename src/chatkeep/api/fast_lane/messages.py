"""The native ``POST /v1/sessions/{session_id}/messages``, the common form: a Bearer key,
a JSON message without an ``Idempotency-Key`` header, no ``user_id``.

The same transaction as ``core.messages.append_message``: the session row locked, the
clock read after the lock, the message inserted and the counters moved, committed before
the answer. The rate limit is spent before that transaction begins (its store may be a
network away), once per request even if the request then takes the full path.
"""

from __future__ import annotations

import uuid

import orjson
from pydantic import ValidationError

from chatkeep.api.fast_lane.lane import Answer, FallThrough, HotRequest, HotRoute
from chatkeep.api.native.schemas import MessageCreate, MessageOut
from chatkeep.core.auth import require
from chatkeep.core.clock import utcnow
from chatkeep.core.messages import check_new_message
from chatkeep.core.repository import hot_appends
from chatkeep.core.types import MessageRecord, NewMessage, Scope

APPEND_PATH = "/v1/sessions/{session_id}/messages"
_HEAD = "/v1/sessions/"


def _message(request: HotRequest) -> NewMessage:
    try:
        body = MessageCreate.model_validate_json(request.json_body())
    except ValidationError:
        raise FallThrough from None  # the full path says why
    new = NewMessage(role=body.role, content=body.content, metadata=body.metadata)
    check_new_message(request.lane.runtime.config, new)  # (a failure falls through)
    return new


async def append_message(request: HotRequest) -> Answer:
    token = request.bearer(("bearer",))
    if request.scope["query_string"] or request.header(b"idempotency-key") is not None:
        raise FallThrough  # another user's session, or a replayable append
    try:
        session_uuid = uuid.UUID(request.scope["path"][len(_HEAD) :].partition("/")[0])
    except ValueError:
        raise FallThrough from None
    new = _message(request)
    lane = request.lane
    async with lane.reads.snapshot(consistent=False) as read:
        principal = await request.authenticate(read, token)
    require(principal, Scope.MESSAGES_WRITE, "append messages")
    await request.admit(principal)
    async with lane.reads.writing() as write:
        owner = {"tenant_id": principal.tenant_id, "user_pk": principal.user_pk}
        locked = await write.fetch(hot_appends.LOCK, {**owner, "ref": session_uuid})
        if not locked:
            raise FallThrough  # the full path's 404 (nothing written, nothing spent again)
        session_id, _uuid, user_pk = locked[0]
        values = {
            **owner, "user_pk": user_pk, "session_id": session_id, "role": new.role,
            "content": new.content, "created_at": utcnow(), "metadata": new.metadata,
        }  # fmt: skip
        if lane.backend == "postgresql":
            inserted = await write.fetch(hot_appends.INSERT_COUNTED[new.role], values)
        else:
            inserted = await write.fetch(hot_appends.INSERT, values)
            await write.fetch(hot_appends.COUNTED[new.role], values)
    row = inserted[0]
    record = MessageRecord(
        id=row.id, session_id=session_uuid, role=row.role, content=row.content,
        created_at=row.created_at, metadata=row.metadata,
    )  # fmt: skip
    body = orjson.dumps(MessageOut.of(record).model_dump(mode="json", by_alias=True))
    return Answer(body, status=201)


ROUTES = [HotRoute("POST", APPEND_PATH, append_message)]
