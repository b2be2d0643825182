"""Access-key pairs for Alibaba's V3 (ACS3-HMAC-SHA256) signatures.

Unlike an API key, the verifier must hold the secret itself (it is the HMAC key), so
the secret is stored encrypted: AES-256-GCM under a key derived (HKDF) from the server
key, with the access key id as associated data so a ciphertext cannot be moved to
another row. The plain secret exists only in the creation result and in memory while a
signature is checked; it is never logged.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatkeep.core.access_key_cipher import AccessKeyCipher
from chatkeep.core.auth import credential_principal, parse_scopes, validate_user_id
from chatkeep.core.clock import utcnow
from chatkeep.core.errors import NotFound
from chatkeep.core.models import AccessKey
from chatkeep.core.repository import access_keys, accounts
from chatkeep.core.tenants import tenant_named
from chatkeep.core.types import CredentialKind, Principal
from chatkeep.core.uow import UnitOfWork

ACCESS_KEY_ID_PREFIX = "CKAK"
_ALPHANUMERIC = string.ascii_letters + string.digits
_ID_RANDOM_LEN = 20  # the id is public; this only keeps it unguessable and unique
_SECRET_LEN = 30  # Alibaba's own secret length: ~178 bits from 62 symbols
# Nonces are purged this long after their window closes, so a worker whose clock runs a
# little behind the purging one still finds the row of a replay it would accept.
_PURGE_GRACE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class IssuedAccessKey:
    access_key_id: str
    access_key_secret: str  # the only time the plain secret leaves the server
    kind: CredentialKind
    scopes: list[str]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """What the verifier needs: the secret to recompute the HMAC, and whether it may act."""

    row: AccessKey
    secret: str

    @property
    def revoked(self) -> bool:
        return self.row.revoked_at is not None


def _cipher(uow: UnitOfWork) -> AccessKeyCipher:
    cipher = uow.config.access_key_cipher
    if cipher is None:  # pragma: no cover - every app and CLI config builds one
        raise RuntimeError("CoreConfig.access_key_cipher is not configured")
    return cipher


def new_access_key_id() -> str:
    return ACCESS_KEY_ID_PREFIX + "".join(
        secrets.choice(_ALPHANUMERIC) for _ in range(_ID_RANDOM_LEN)
    )


async def create_access_key(
    uow: UnitOfWork,
    tenant_name: str,
    user_id: str,
    *,
    kind: CredentialKind,
    scopes: Iterable[str] = (),
) -> IssuedAccessKey:
    """Issue a pair for a user (created if new). With no scopes given, the pair gets all."""
    tenant = await tenant_named(uow, tenant_name)
    validate_user_id(user_id)
    now = utcnow()
    user = await accounts.ensure_user(uow.db, tenant.id, user_id, now)
    granted = parse_scopes(scopes) or ["*"]
    access_key_id = new_access_key_id()
    secret = "".join(secrets.choice(_ALPHANUMERIC) for _ in range(_SECRET_LEN))
    await access_keys.insert_access_key(
        uow.db,
        AccessKey(
            id=access_key_id,
            tenant_id=tenant.id,
            user_pk=user.id,
            kind=kind.value,
            secret_ciphertext=_cipher(uow).encrypt(access_key_id, secret),
            scopes=granted,
            created_at=now,
        ),
    )
    return IssuedAccessKey(access_key_id, secret, kind, granted)


async def revoke_access_key(uow: UnitOfWork, access_key_id: str) -> None:
    """Revoke a pair; revoking it again is a no-op, an unknown id NotFound."""
    if not await access_keys.revoke_access_key(uow.db, access_key_id, utcnow()) and not (
        await access_keys.access_key_exists(uow.db, access_key_id)
    ):
        raise NotFound(f"access key {access_key_id}")


async def load_signing_key(uow: UnitOfWork, access_key_id: str) -> SigningKey | None:
    """The pair with its decrypted secret, revoked or not; None for an unknown id."""
    row = await access_keys.find_access_key(uow.db, access_key_id)
    if row is None:
        return None
    return SigningKey(row, _cipher(uow).decrypt(row.id, row.secret_ciphertext))


async def principal_for_access_key(uow: UnitOfWork, key: AccessKey) -> Principal:
    return await credential_principal(
        uow, key.tenant_id, key.user_pk,
        kind=CredentialKind(key.kind), scopes=key.scopes, credential_id=key.id,
    )  # fmt: skip


async def record_signature_nonce(
    uow: UnitOfWork, access_key_id: str, nonce: str, expires_at: datetime, *, purge: bool
) -> bool:
    """Record a nonce in the request's transaction; False when it was already used.

    ``purge`` also deletes nonces whose window has passed (callers do it now and then,
    not on every request, to keep the hot path to one insert).
    """
    if purge:
        await access_keys.purge_expired_nonces(uow.db, utcnow() - _PURGE_GRACE)
    return await access_keys.record_nonce(uow.db, access_key_id, nonce, expires_at)
