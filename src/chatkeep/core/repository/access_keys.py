"""Access-key pairs and the signature nonces seen from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import AccessKey, AccessKeyNonce
from chatkeep.core.repository.dialect import upsert_insert


async def find_access_key(db: AsyncSession, access_key_id: str) -> AccessKey | None:
    return await db.get(AccessKey, access_key_id)


async def insert_access_key(db: AsyncSession, key: AccessKey) -> AccessKey:
    db.add(key)
    await db.flush()
    return key


async def revoke_access_key(db: AsyncSession, access_key_id: str, now: datetime) -> bool:
    result = await db.execute(
        update(AccessKey)
        .where(AccessKey.id == access_key_id, AccessKey.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def access_key_exists(db: AsyncSession, access_key_id: str) -> bool:
    return await db.scalar(select(AccessKey.id).where(AccessKey.id == access_key_id)) is not None


async def record_nonce(
    db: AsyncSession, access_key_id: str, nonce: str, expires_at: datetime
) -> bool:
    """Record a nonce; False when it is already recorded (a replay).

    ON CONFLICT DO NOTHING on the primary key: a concurrent insert of the same nonce in
    another worker waits for that transaction and then conflicts, so exactly one wins.
    """
    result = await db.execute(
        upsert_insert(db, AccessKeyNonce)
        .values(access_key_id=access_key_id, nonce=nonce, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["access_key_id", "nonce"])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def purge_expired_nonces(db: AsyncSession, now: datetime) -> int:
    result = await db.execute(delete(AccessKeyNonce).where(AccessKeyNonce.expires_at < now))
    return int(result.rowcount)  # type: ignore[attr-defined]
