"""Credentials and who-may-do-what.

API keys look like ``ck_<lookup><secret>``: the lookup part finds the row, and a
SHA-256 of the whole key (high-entropy, so a fast hash is the right one) is compared in
constant time. The key itself is shown once and never stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chatkeep.core.clock import utcnow
from chatkeep.core.errors import Forbidden, InvalidArgument, Unauthenticated
from chatkeep.core.models import USER_ID_MAX
from chatkeep.core.repository import accounts
from chatkeep.core.types import CredentialKind, Principal, Scope, Subject
from chatkeep.core.uow import UnitOfWork

KEY_PREFIX = "ck_"
_LOOKUP_LEN = 12
_SECRET_LEN = 32


@dataclass(frozen=True, slots=True)
class IssuedKey:
    id: uuid.UUID
    key: str  # the only time the plain key exists outside the caller's hands
    kind: CredentialKind
    scopes: list[str]
    expires_at: datetime | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """A fresh key and its lookup part."""
    lookup = secrets.token_hex(_LOOKUP_LEN // 2)
    return f"{KEY_PREFIX}{lookup}{secrets.token_urlsafe(_SECRET_LEN)}", lookup


def parse_scopes(raw: Iterable[str]) -> list[str]:
    scopes = sorted(set(raw))
    known = {s.value for s in Scope}
    for scope in scopes:
        if scope not in known:
            raise InvalidArgument("scope", f"unknown scope {scope!r}; known: {sorted(known)}")
    return scopes


def key_lookup(presented: str) -> str:
    """The lookup part of a presented key (which row to check it against)."""
    if not presented.startswith(KEY_PREFIX) or len(presented) < len(KEY_PREFIX) + _LOOKUP_LEN:
        raise Unauthenticated("Invalid API key.", reason="invalid")
    return presented[len(KEY_PREFIX) : len(KEY_PREFIX) + _LOOKUP_LEN]


def verify_api_key(key: Any, presented: str) -> Principal:
    """Check a presented key against its row (``accounts.find_api_key``'s columns, or None)."""
    if key is None or not hmac.compare_digest(key.secret_hash, hash_key(presented)):
        raise Unauthenticated("Invalid API key.", reason="invalid")
    if key.revoked_at is not None:
        raise Unauthenticated("This API key has been revoked.", reason="revoked")
    if key.expires_at is not None and key.expires_at <= utcnow():
        raise Unauthenticated("This API key has expired.", reason="expired")
    return Principal(
        tenant_id=key.tenant_id, tenant_name=key.tenant_name, user_pk=key.user_pk,
        user_id=key.user_id,
        kind=CredentialKind(key.kind), scopes=frozenset(key.scopes),
        credential_id=str(key.id), credential_expires_at=key.expires_at,
    )  # fmt: skip


async def authenticate_api_key(uow: UnitOfWork, presented: str) -> Principal:
    key = await accounts.find_api_key(uow.db, key_lookup(presented))
    return verify_api_key(key, presented)


async def credential_principal(
    uow: UnitOfWork,
    tenant_id: int,
    user_pk: int,
    *,
    kind: CredentialKind,
    scopes: Iterable[str],
    credential_id: str,
    expires_at: datetime | None = None,
) -> Principal:
    """The principal of any other credential form (access-key pair, ...)."""
    names = await accounts.owner_names(uow.db, tenant_id, user_pk)
    if names is None:  # pragma: no cover - foreign keys make this impossible
        raise Unauthenticated("Invalid credential.", reason="invalid")
    tenant_name, user_id = names
    return Principal(
        tenant_id=tenant_id,
        tenant_name=tenant_name,
        user_pk=user_pk,
        user_id=user_id,
        kind=kind,
        scopes=frozenset(scopes),
        credential_id=credential_id,
        credential_expires_at=expires_at,
    )


def require(principal: Principal, scope: Scope, action: str) -> None:
    if not principal.has_scope(scope):
        raise Forbidden(
            f"This credential lacks the {scope.value!r} scope needed to {action}.", action=action
        )


async def resolve_subject(
    uow: UnitOfWork, principal: Principal, user_id: str | None, *, create: bool
) -> Subject:
    """The user a request acts on.

    A user credential acts only for itself; a service credential may name any user of its
    tenant. ``create`` makes a user a service names for the first time (writes do;
    reads of an unknown user just see nothing).
    """
    if user_id is None or user_id == principal.user_id:
        return Subject(principal.tenant_id, principal.user_pk, principal.user_id)
    if principal.kind is not CredentialKind.SERVICE:
        raise Forbidden(
            "A user credential acts only for its own user; use a service credential "
            "to act for another user.",
            action="act for another user",
        )
    validate_user_id(user_id)
    user = await accounts.find_user(uow.db, principal.tenant_id, user_id)
    if user is None and create:
        user = await accounts.ensure_user(uow.db, principal.tenant_id, user_id, utcnow())
    return Subject(principal.tenant_id, user.id if user else None, user_id)


def validate_user_id(user_id: str) -> None:
    if not user_id or len(user_id) > USER_ID_MAX or not user_id.isprintable():
        raise InvalidArgument("user_id", f"must be 1 to {USER_ID_MAX} printable characters")
