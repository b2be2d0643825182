"""Session use cases: who may list, read, create, change and delete which sessions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any

from chatkeep.core import limits
from chatkeep.core.auth import require, resolve_subject
from chatkeep.core.clock import utcnow
from chatkeep.core.cursor import CursorCodec, fingerprint
from chatkeep.core.errors import NotFound
from chatkeep.core.models import ChatSession
from chatkeep.core.repository import counters
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.repository import sessions as rows
from chatkeep.core.types import (
    CredentialKind,
    NewSession,
    OffsetPage,
    Page,
    Principal,
    Scope,
    SessionChanges,
    SessionFilter,
    SessionListQuery,
    SessionOrder,
    SessionRecord,
    Subject,
)
from chatkeep.core.uow import UnitOfWork

SessionRef = uuid.UUID | int  # the native/Alibaba UUID, or the AISquare integer id


async def list_sessions(
    uow: UnitOfWork, principal: Principal, query: SessionListQuery
) -> Page[SessionRecord]:
    require(principal, Scope.SESSIONS_READ, "list sessions")
    limits.check_limit(query.limit)
    _check_filter(query.filter)
    subject = await resolve_subject(uow, principal, query.filter.user_id, create=False)
    if subject.user_pk is None:
        return Page([], None)
    flt = query.filter
    fp = list_fingerprint(subject.user_pk, flt, query.order)
    after = uow.config.cursors.decode(query.cursor, fp) if query.cursor else None
    stmt = rows.select_sessions(subject.tenant_id, subject.user_pk, flt, query.order, after)
    found = await rows.list_sessions(uow.db, stmt, query.limit + 1)
    return cursor_page(uow.config.cursors, fp, found, query, subject.user_id)


def list_fingerprint(user_pk: int, flt: SessionFilter, order: SessionOrder) -> str:
    """What a cursor of this list is bound to: it opens no other user's or query's list."""
    return fingerprint("sessions", user_pk, flt.domain_id, flt.q, flt.pinned, flt.archived,
                       order.value)  # fmt: skip


def cursor_page(
    cursors: CursorCodec, fp: str, found: Sequence[Any], query: SessionListQuery, user_id: str
) -> Page[SessionRecord]:
    """A page from up to ``limit + 1`` rows: the extra one only says another page follows."""
    page = found[: query.limit]
    next_cursor = None
    if len(found) > query.limit:
        next_cursor = cursors.encode(fp, rows.sort_key(page[-1], query.order))
    return Page([rows.to_record(r, user_id) for r in page], next_cursor)


async def stream_sessions(
    uow: UnitOfWork,
    principal: Principal,
    flt: SessionFilter,
    order: SessionOrder = SessionOrder.RECENT,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> AsyncGenerator[SessionRecord, None]:
    """Matching sessions by position, for wire formats paged by offset (or not at all).

    The skip never reads rows: a limited page is a deferred join (ids from the order's
    index, then only the page's rows); an unlimited stream from an offset first reads
    the sort key at that position from the index, then continues as a keyset walk.
    """
    require(principal, Scope.SESSIONS_READ, "list sessions")
    _check_filter(flt)
    subject = await resolve_subject(uow, principal, flt.user_id, create=False)
    if subject.user_pk is None:
        return
    user = (subject.tenant_id, subject.user_pk)
    if limit is not None:
        stmt = rows.select_session_page(*user, flt, order, offset=offset, limit=limit)
        for row in await rows.list_sessions(uow.db, stmt, limit):
            yield rows.to_record(row, subject.user_id)
        return
    after = None
    if offset:
        after = await rows.position(uow.db, *user, flt, order, offset - 1)
        if after is None:
            return
    async for row in rows.walk_sessions(uow.db, *user, flt, order, after):
        yield rows.to_record(row, subject.user_id)


async def count_sessions(uow: UnitOfWork, principal: Principal, flt: SessionFilter) -> int:
    require(principal, Scope.SESSIONS_READ, "list sessions")
    _check_filter(flt)
    subject = await resolve_subject(uow, principal, flt.user_id, create=False)
    return await _total(uow, subject, flt)


async def page_sessions(
    uow: UnitOfWork,
    principal: Principal,
    flt: SessionFilter,
    order: SessionOrder,
    *,
    offset: int,
    limit: int,
) -> OffsetPage[SessionRecord]:
    """Sessions ``[offset, offset + limit)`` and the total: a page-numbered list in one
    authorization and user lookup. A page past the end is empty, with the true total."""
    require(principal, Scope.SESSIONS_READ, "list sessions")
    limits.check_limit(limit)
    _check_filter(flt)
    subject = await resolve_subject(uow, principal, flt.user_id, create=False)
    total = await _total(uow, subject, flt)
    if subject.user_pk is None or offset >= total:  # no offset past the end (or 64 bits)
        return OffsetPage([], total)
    user = (subject.tenant_id, subject.user_pk)
    stmt = rows.select_session_page(*user, flt, order, offset=offset, limit=limit)
    found = await rows.list_sessions(uow.db, stmt, limit)
    return OffsetPage([rows.to_record(r, subject.user_id) for r in found], total)


async def _total(uow: UnitOfWork, subject: Subject, flt: SessionFilter) -> int:
    if subject.user_pk is None:
        return 0
    if flt.q is None and flt.pinned is None:  # a maintained counter answers it
        return await counters.counted_sessions(
            uow.db, subject.tenant_id, subject.user_pk,
            archived=flt.archived, domain_id=flt.domain_id,
        )  # fmt: skip
    # A title search cannot be kept in a counter: counted from a covering index instead.
    return await rows.count_sessions(uow.db, subject.tenant_id, subject.user_pk, flt)


def _check_filter(flt: SessionFilter) -> None:
    if flt.q is not None:
        limits.check_text(flt.q, "q")


async def get_session(
    uow: UnitOfWork, principal: Principal, ref: SessionRef, *, user_id: str | None = None
) -> SessionRecord:
    require(principal, Scope.SESSIONS_READ, "read sessions")
    return await load_session(uow, principal, ref, user_id)


async def load_session(
    uow: UnitOfWork,
    principal: Principal,
    ref: SessionRef,
    user_id: str | None,
    *,
    lock: bool = False,
) -> SessionRecord:
    """The session if this principal may see it, else NotFound (never Forbidden).

    A user credential sees its own user's sessions; a service credential any session of
    its tenant, or, naming ``user_id``, only that user's. ``lock`` holds the session row
    until commit.
    """
    owner_pk = await _visible_owner(uow, principal, user_id)
    key: dict[str, Any] = {"session_id": ref} if isinstance(ref, int) else {"session_uuid": ref}
    row = await rows.find_session(uow.db, principal.tenant_id, owner_pk, lock=lock, **key)
    if row is None:
        raise NotFound("session")
    return rows.to_record(row, row.user_external_id)


async def lock_session(
    uow: UnitOfWork, principal: Principal, ref: SessionRef, user_id: str | None
) -> LockedSession:
    """Hold the session row until commit, if this principal may see it (else NotFound, as
    ``load_session``): its keys only, one statement, for writers that need no more."""
    owner_pk = await _visible_owner(uow, principal, user_id)
    key: dict[str, Any] = {"session_id": ref} if isinstance(ref, int) else {"session_uuid": ref}
    row = await rows.lock_session(uow.db, principal.tenant_id, owner_pk, **key)
    if row is None:
        raise NotFound("session")
    return LockedSession(id=row.id, uuid=row.uuid, user_pk=row.user_pk)


async def _visible_owner(uow: UnitOfWork, principal: Principal, user_id: str | None) -> int | None:
    """Whose sessions the principal may touch here: None means any user of the tenant."""
    owner_pk: int | None = principal.user_pk
    if principal.kind is CredentialKind.SERVICE and user_id is None:
        owner_pk = None
    elif user_id is not None:
        owner_pk = (await resolve_subject(uow, principal, user_id, create=False)).user_pk
        if owner_pk is None:
            raise NotFound("session")
    return owner_pk


@dataclass(frozen=True, slots=True)
class LockedSession:
    id: int
    uuid: uuid.UUID
    user_pk: int


async def create_session(uow: UnitOfWork, principal: Principal, new: NewSession) -> SessionRecord:
    require(principal, Scope.SESSIONS_WRITE, "create sessions")
    limits.check_title(new.title)
    limits.check_system_context(new.system_context)
    limits.check_metadata(new.metadata)
    subject = await resolve_subject(uow, principal, new.user_id, create=True)
    domain_id = await _domain_in_tenant(uow, subject.tenant_id, new.domain_id)
    now = utcnow()
    session = ChatSession(
        tenant_id=subject.tenant_id,
        user_pk=subject.user_pk,
        domain_id=domain_id,
        title=new.title,
        system_context=new.system_context,
        is_pinned=False,
        archived=False,
        created_at=now,
        updated_at=now,
        recent_at=now,
        message_count=0,
        metadata_=new.metadata,
    )
    await rows.insert_session(uow.db, session)
    await counters.move_session_counts(
        uow.db, subject.tenant_id, session.user_pk, {(False, domain_id): 1}
    )
    return await load_session(uow, principal, session.id, new.user_id)


async def update_session(
    uow: UnitOfWork,
    principal: Principal,
    ref: SessionRef,
    changes: SessionChanges,
    *,
    user_id: str | None = None,
) -> SessionRecord:
    """Rename, pin, archive, move or edit. Only pinning moves a session in "recent" order."""
    require(principal, Scope.SESSIONS_WRITE, "update sessions")
    # Locked: two concurrent archives of one session must not both move the counters.
    current = await load_session(uow, principal, ref, user_id, lock=True)
    values: dict[str, Any] = {}
    if changes.title is not None:
        limits.check_title(changes.title)
        values["title"] = changes.title
    if changes.system_context is not None:
        limits.check_system_context(changes.system_context)
        values["system_context"] = changes.system_context
    if changes.metadata is not None:
        limits.check_metadata(changes.metadata)
        values["metadata_"] = changes.metadata
    if changes.archived is not None:
        values["archived"] = changes.archived
    if changes.domain_id is not None:
        values["domain_id"] = await _domain_in_tenant(uow, principal.tenant_id, changes.domain_id)
    now = utcnow()
    if changes.is_pinned is not None and changes.is_pinned != current.is_pinned:
        values["is_pinned"] = changes.is_pinned
        values["pinned_at"] = now if changes.is_pinned else None
        values["recent_at"] = (
            now if changes.is_pinned else (current.last_message_at or current.created_at)
        )
    if values:
        values["updated_at"] = now
        await rows.update_session(uow.db, current.id, values)
        await _recount_if_moved(uow, principal.tenant_id, current, values)
    return await load_session(uow, principal, current.id, user_id)


async def delete_session(
    uow: UnitOfWork, principal: Principal, ref: SessionRef, *, user_id: str | None = None
) -> None:
    """Delete a session and, with it, all its messages."""
    require(principal, Scope.SESSIONS_WRITE, "delete sessions")
    current = await load_session(uow, principal, ref, user_id, lock=True)
    await rows.delete_session(uow.db, current.id)
    await counters.move_session_counts(
        uow.db, principal.tenant_id, current.owner_pk, {(current.archived, current.domain_id): -1}
    )


async def _recount_if_moved(
    uow: UnitOfWork, tenant_id: int, current: SessionRecord, values: dict[str, Any]
) -> None:
    """Move the session from its old (archived, domain) count to its new one."""
    before = (current.archived, current.domain_id)
    after = (values.get("archived", current.archived), values.get("domain_id", current.domain_id))
    if before != after:
        await counters.move_session_counts(
            uow.db, tenant_id, current.owner_pk, {before: -1, after: 1}
        )


async def _domain_in_tenant(
    uow: UnitOfWork, tenant_id: int, domain_id: uuid.UUID | None
) -> uuid.UUID:
    """The given domain if it is the tenant's (else NotFound), or the tenant's default."""
    if domain_id is None:
        domain = await domain_rows.default_domain(uow.db, tenant_id)
    else:
        domain = await domain_rows.get_domain(uow.db, tenant_id, domain_id)
    if domain is None:
        raise NotFound("domain")
    return domain.id
