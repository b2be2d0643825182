"""Web sign-in: one-time login links become revocable browser sessions.

A login token (``ckl_...``) and a session token (``cks_...``) share the API keys' shape:
a 12-character lookup prefix finds the row and a SHA-256 of the whole token is compared
in constant time; neither token is ever stored. The browser holds only the session token,
in an HttpOnly cookie; it never sees an API key.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatkeep.core import tenants
from chatkeep.core.auth import hash_key, validate_user_id
from chatkeep.core.clock import utcnow
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.models import WebLoginToken, WebSession
from chatkeep.core.repository import accounts
from chatkeep.core.repository import web_sessions as repo
from chatkeep.core.types import CredentialKind, Principal, Scope
from chatkeep.core.uow import UnitOfWork

LOGIN_PREFIX = "ckl_"
SESSION_PREFIX = "cks_"
_LOOKUP_LEN = 12
_SECRET_BYTES = 32

# What the UI needs and no more: no domains:write (the tree is the tenant's configuration),
# documents:* for the per-domain document pages (the knowledge work's scope names).
WEB_SCOPES = frozenset({
    Scope.SESSIONS_READ.value, Scope.SESSIONS_WRITE.value,
    Scope.MESSAGES_READ.value, Scope.MESSAGES_WRITE.value,
    Scope.DOMAINS_READ.value, "documents:read", "documents:write",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class IssuedLoginToken:
    token: str  # shown once: the only time it exists outside the caller's hands
    tenant: str
    user_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuedWebSession:
    token: str  # goes into the HttpOnly cookie, nowhere else
    user_id: str
    tenant: str
    expires_at: datetime


def _new_token(prefix: str) -> tuple[str, str]:
    lookup = secrets.token_hex(_LOOKUP_LEN // 2)
    return f"{prefix}{lookup}{secrets.token_urlsafe(_SECRET_BYTES)}", lookup


def _lookup(prefix: str, presented: str) -> str | None:
    if not presented.startswith(prefix) or len(presented) < len(prefix) + _LOOKUP_LEN + 16:
        return None
    return presented[len(prefix) : len(prefix) + _LOOKUP_LEN]


async def issue_login_token(
    uow: UnitOfWork, tenant_name: str, user_id: str, *, ttl: timedelta
) -> IssuedLoginToken:
    """An operator action (the CLI's): a one-time sign-in token for a user (created if new)."""
    tenant = await tenants.tenant_named(uow, tenant_name)
    validate_user_id(user_id)
    user = await accounts.ensure_user(uow.db, tenant.id, user_id, utcnow())
    token, lookup = _new_token(LOGIN_PREFIX)
    now = utcnow()
    row = await repo.insert_login_token(
        uow.db,
        WebLoginToken(
            tenant_id=tenant.id, user_pk=user.id, lookup=lookup, secret_hash=hash_key(token),
            created_at=now, expires_at=now + ttl,
        ),
    )  # fmt: skip
    return IssuedLoginToken(token, tenant.name, user.external_id, row.expires_at)


async def redeem_login_token(
    uow: UnitOfWork, presented: str, *, session_ttl: timedelta
) -> IssuedWebSession:
    """Spend a login token (once, before it expires) and open a browser session."""
    invalid = Unauthenticated(
        "This sign-in link is invalid or has already been used.", reason="invalid"
    )
    lookup = _lookup(LOGIN_PREFIX, presented)
    token = await repo.find_login_token(uow.db, lookup) if lookup else None
    if token is None or not hmac.compare_digest(token.secret_hash, hash_key(presented)):
        raise invalid
    now = utcnow()
    if token.used_at is not None:
        raise invalid
    if token.expires_at <= now:
        raise Unauthenticated("This sign-in link has expired; ask for a new one.", reason="expired")
    if not await repo.spend_login_token(uow.db, token, now):
        raise invalid
    names = await accounts.owner_names(uow.db, token.tenant_id, token.user_pk)
    if names is None:  # pragma: no cover - foreign keys make this impossible
        raise invalid
    value, session_lookup = _new_token(SESSION_PREFIX)
    row = await repo.insert_web_session(
        uow.db,
        WebSession(
            tenant_id=token.tenant_id, user_pk=token.user_pk, lookup=session_lookup,
            secret_hash=hash_key(value), created_at=now, expires_at=now + session_ttl,
        ),
    )  # fmt: skip
    return IssuedWebSession(value, names[1], names[0], row.expires_at)


async def _find_session(uow: UnitOfWork, presented: str) -> tuple[WebSession, str, str]:
    lookup = _lookup(SESSION_PREFIX, presented)
    found = await repo.find_web_session(uow.db, lookup) if lookup else None
    if found is None or not hmac.compare_digest(found[0].secret_hash, hash_key(presented)):
        raise Unauthenticated("Your sign-in is not valid; sign in again.", reason="invalid")
    return found


async def authenticate_web_session(uow: UnitOfWork, presented: str) -> Principal:
    session, tenant_name, user_id = await _find_session(uow, presented)
    if session.revoked_at is not None:
        raise Unauthenticated("You have signed out; sign in again.", reason="revoked")
    if session.expires_at <= utcnow():
        raise Unauthenticated("Your sign-in has expired; sign in again.", reason="expired")
    return Principal(
        tenant_id=session.tenant_id, tenant_name=tenant_name, user_pk=session.user_pk,
        user_id=user_id, kind=CredentialKind.USER, scopes=WEB_SCOPES,
        credential_id=f"web:{session.id}", credential_expires_at=session.expires_at,
    )  # fmt: skip


async def end_web_session(uow: UnitOfWork, presented: str) -> None:
    """Sign out: the session row is revoked, so a copied cookie stops working too."""
    session, _tenant, _user = await _find_session(uow, presented)
    await repo.revoke_web_session(uow.db, session, utcnow())
