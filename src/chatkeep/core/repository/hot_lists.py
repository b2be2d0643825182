"""The statements of the hot list requests, with named parameters, for the fast lane.

Built by the same functions as the full path's statements (so both run the same SQL, and
the query-plan tests cover both); ``db/direct.py`` compiles each once per database. The
parameters: ``lookup`` for the key check; ``tenant_id``, ``user_pk``, and ``domain_id``,
``offset``, ``limit`` where a statement has them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, bindparam

from chatkeep.core.models import ChatSession as S
from chatkeep.core.models import Domain
from chatkeep.core.repository import accounts, counters
from chatkeep.core.repository import sessions as rows
from chatkeep.core.types import SessionFilter, SessionOrder
from chatkeep.db.direct import Prepared


def _param(name: str) -> Any:  # a bind in place of a value: the builders take either
    return bindparam(name)


_USER = (_param("tenant_id"), _param("user_pk"))
_LIMIT: Any = bindparam("limit", type_=Integer)

KEY_CHECK = Prepared(accounts.KEY_CHECK)

# AISquare's list: the recent order, all of it (the fast lane answers only short ones),
# only the columns its items show: converting the others' values cost more than the read.
_AISQUARE_ITEM = (
    S.id, S.system_context, S.last_message_at, S.created_at, S.domain_id,
    Domain.name.label("domain_name"), S.title, S.is_pinned,
)  # fmt: skip


def _recent(flt: SessionFilter) -> Prepared:
    stmt = rows.select_sessions(*_USER, flt, SessionOrder.RECENT)
    return Prepared(stmt.with_only_columns(*_AISQUARE_ITEM).limit(_LIMIT))


RECENT = _recent(SessionFilter())
RECENT_IN_DOMAIN = _recent(SessionFilter(domain_id=_param("domain_id")))

# The native list's first page and the pages after a cursor, by the cursor's first key:
# rows after a pinned one may still be pinned; after an unpinned one they are not.
_AFTER = (bindparam("after_recent_at", type_=S.recent_at.type),
          bindparam("after_id", type_=S.id.type))  # fmt: skip


def _native(after: tuple[Any, ...] | None) -> Prepared:
    stmt = rows.select_sessions(*_USER, SessionFilter(), SessionOrder.RECENT, after)
    return Prepared(stmt.limit(_LIMIT))


NATIVE_FIRST = _native(None)
NATIVE_AFTER_PINNED = _native((True, *_AFTER))
NATIVE_AFTER_UNPINNED = _native((False, *_AFTER))

# AI-doc's pages: the maintained total, then the page as a deferred join.
COUNTED = Prepared(counters.select_counted(*_USER, archived=False, domain_id=None))
UPDATED_PAGE = Prepared(
    rows.select_session_page(
        *_USER, SessionFilter(), SessionOrder.UPDATED_DESC, offset=_param("offset"), limit=_LIMIT
    )
)

EVERY = (KEY_CHECK, RECENT, RECENT_IN_DOMAIN, NATIVE_FIRST, NATIVE_AFTER_PINNED,
         NATIVE_AFTER_UNPINNED, COUNTED, UPDATED_PAGE)  # fmt: skip
