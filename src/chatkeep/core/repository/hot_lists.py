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

# AI-doc's pages: the maintained total, then the page as a deferred join.
COUNTED = Prepared(counters.select_counted(*_USER, archived=False, domain_id=None))
UPDATED_PAGE = Prepared(
    rows.select_session_page(
        *_USER, SessionFilter(), SessionOrder.UPDATED_DESC, offset=_param("offset"), limit=_LIMIT
    )
)

EVERY = (KEY_CHECK, RECENT, RECENT_IN_DOMAIN, COUNTED, UPDATED_PAGE)
