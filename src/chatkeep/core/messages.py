"""Message use cases: read a session's turns, append one (idempotently)."""

from __future__ import annotations

import hashlib
import uuid

import orjson

from chatkeep.core import limits
from chatkeep.core.auth import require
from chatkeep.core.clock import utcnow
from chatkeep.core.cursor import fingerprint
from chatkeep.core.errors import IdempotencyMismatch, InvalidArgument
from chatkeep.core.models import IDEMPOTENCY_KEY_MAX, MESSAGE_ROLES, Message
from chatkeep.core.repository import messages as rows
from chatkeep.core.sessions import SessionRef, load_session, lock_session
from chatkeep.core.types import (
    AppendResult,
    MessageListQuery,
    MessageRecord,
    NewMessage,
    Page,
    Principal,
    Scope,
)
from chatkeep.core.uow import CoreConfig, UnitOfWork


async def list_messages(
    uow: UnitOfWork, principal: Principal, query: MessageListQuery
) -> Page[MessageRecord]:
    """A session's messages in append order (oldest first unless ``newest_first``)."""
    require(principal, Scope.MESSAGES_READ, "read messages")
    limits.check_limit(query.limit)
    session = await load_session(uow, principal, query.session_id, query.user_id)
    fp = fingerprint("messages", session.id, query.newest_first)
    after = uow.config.cursors.decode(query.cursor, fp) if query.cursor else None
    found = await rows.list_messages(
        uow.db, principal.tenant_id, session.owner_pk, session.id,
        newest_first=query.newest_first,
        after_id=_as_int(after[0]) if after else None,
        limit=query.limit + 1,
    )  # fmt: skip
    page = found[: query.limit]
    next_cursor = None
    if len(found) > query.limit:
        next_cursor = uow.config.cursors.encode(fp, [page[-1].id])
    return Page([_record(m, query.session_id) for m in page], next_cursor)


async def append_message(
    uow: UnitOfWork,
    principal: Principal,
    ref: SessionRef,
    new: NewMessage,
    *,
    user_id: str | None = None,
) -> AppendResult:
    """Append a turn and move the session's activity clocks in the same transaction.

    With an idempotency key, a retry of the same request returns the first result; the
    same key with a different request is refused.
    """
    require(principal, Scope.MESSAGES_WRITE, "append messages")
    check_new_message(uow.config, new)
    # Lock before reading the clock: appends then commit in timestamp order, so
    # last_message_at never moves backwards and message ids follow created_at.
    session = await lock_session(uow, principal, ref, user_id)
    request_hash = _request_hash(new)
    if new.idempotency_key is not None:
        earlier = await rows.find_by_idempotency_key(uow.db, session.id, new.idempotency_key)
        if earlier is not None:
            return _replay(earlier, request_hash, session.uuid)
    now = utcnow()
    inserted = await rows.insert_counted_message(
        uow.db,
        {
            "tenant_id": principal.tenant_id, "user_pk": session.user_pk, "session_id": session.id,
            "role": new.role, "content": new.content, "created_at": now,
            "metadata": new.metadata, "idempotency_key": new.idempotency_key,
            "request_hash": request_hash if new.idempotency_key else None,
        },
    )  # fmt: skip
    if inserted is None:  # a concurrent retry with the same key won the race
        assert new.idempotency_key is not None
        earlier = await rows.find_by_idempotency_key(uow.db, session.id, new.idempotency_key)
        assert earlier is not None
        return _replay(earlier, request_hash, session.uuid)
    record = MessageRecord(
        id=inserted.id, session_id=session.uuid, role=inserted.role, content=inserted.content,
        created_at=inserted.created_at, metadata=inserted.metadata,
    )  # fmt: skip
    return AppendResult(record, replayed=False)


def check_new_message(config: CoreConfig, new: NewMessage) -> None:
    """A new message's limits (role, text, size, metadata, idempotency key)."""
    if new.role not in MESSAGE_ROLES:
        raise InvalidArgument("role", f"must be one of {', '.join(MESSAGE_ROLES)}")
    limits.check_text(new.content, "content")
    max_bytes = config.max_message_bytes
    if len(new.content.encode()) > max_bytes:
        raise InvalidArgument("content", f"must be at most {max_bytes} bytes (UTF-8)")
    limits.check_metadata(new.metadata)
    key = new.idempotency_key
    if key is not None and not (0 < len(key) <= IDEMPOTENCY_KEY_MAX and key.isprintable()):
        raise InvalidArgument(
            "Idempotency-Key", f"must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters"
        )


def _request_hash(new: NewMessage) -> str:
    body = orjson.dumps([new.role, new.content, new.metadata], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def _replay(earlier: Message, request_hash: str, session_uuid: uuid.UUID) -> AppendResult:
    if earlier.request_hash != request_hash:
        raise IdempotencyMismatch("This Idempotency-Key was already used with a different request.")
    return AppendResult(_record(earlier, session_uuid), replayed=True)


def _record(message: Message, session_uuid: uuid.UUID) -> MessageRecord:
    return MessageRecord(
        id=message.id,
        session_id=session_uuid,
        role=message.role,
        content=message.content,
        created_at=message.created_at,
        metadata=message.metadata_,
    )


def _as_int(value: object) -> int:
    if not isinstance(value, int):
        raise InvalidArgument("cursor", "the cursor is malformed or has been altered")
    return value
