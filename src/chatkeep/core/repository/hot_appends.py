"""The statements of a message append, with named parameters, for the fast lane.

The same statements as ``messages.insert_counted_message`` and ``sessions.lock_session``
build for an append without an idempotency key (whose ``ON CONFLICT`` can then never
fire): the session row's lock, the insert, and the counters' update, one statement with
the insert on PostgreSQL, after it on SQLite. One set per role, since the role decides
how the Q&A-pair counter moves. Parameters: ``tenant_id``, ``ref`` (the session's UUID),
``user_pk`` to lock; then the message's columns (``created_at`` also moves the clocks).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, exists, insert, select

from chatkeep.core.models import MESSAGE_ROLES, Message
from chatkeep.core.repository.sessions import lock_statement, message_appended
from chatkeep.db.direct import Prepared

_MESSAGE: sa.Table = Message.__table__  # type: ignore[assignment]
_COLUMNS = ("tenant_id", "user_pk", "session_id", "role", "content", "created_at", "metadata")
_VALUES: dict[str, Any] = {name: bindparam(name, type_=_MESSAGE.c[name].type) for name in _COLUMNS}

LOCK = Prepared(lock_statement(by_id=False, of_user=True))
INSERT = Prepared(insert(Message).values(**_VALUES).returning(*_MESSAGE.c))


def _counted(role: str) -> Any:
    return message_appended(_VALUES["session_id"], role, _VALUES["created_at"])


# SQLite: the update after the insert (no DML in a CTE there).
COUNTED = {role: Prepared(_counted(role)) for role in MESSAGE_ROLES}


def _insert_counted(role: str) -> Prepared:
    inserted = insert(Message).values(**_VALUES).returning(*_MESSAGE.c).cte("inserted")
    moved = _counted(role).where(exists(select(inserted.c.id))).cte("moved")
    return Prepared(select(inserted).add_cte(moved))


# PostgreSQL: one statement, as insert_counted_message.
INSERT_COUNTED = {role: _insert_counted(role) for role in MESSAGE_ROLES}
EVERY = (LOCK, INSERT, *COUNTED.values(), *INSERT_COUNTED.values())
