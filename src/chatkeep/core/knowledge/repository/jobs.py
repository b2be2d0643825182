"""The ingestion queue: claim, finish, retry. A claim is a lease, named by a fresh token.

PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so concurrent workers take different jobs without
waiting. SQLite: the claim runs in a write transaction (BEGIN IMMEDIATE, the database's
one write lock), so claims are serialised and never take the same job twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.knowledge.models import IngestJob


async def claim(
    db: AsyncSession, *, now: datetime, lease_until: datetime, token: str
) -> IngestJob | None:
    """The job waiting longest whose time has come (a new job, a retry, or an expired lease)."""
    stmt = (
        select(IngestJob)
        .where(IngestJob.available_at <= now)
        .order_by(IngestJob.available_at, IngestJob.id)
        .limit(1)
    )
    if db.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job = await db.scalar(stmt)
    if job is None:
        return None
    job.attempts += 1
    job.available_at = lease_until
    job.lease_owner = token
    await db.flush()
    return job


async def finish(db: AsyncSession, job_id: int, token: str) -> bool:
    """Remove a job still leased under ``token``; False: the lease was lost (or the
    document deleted), and the caller's work must not be committed."""
    result = await db.execute(
        delete(IngestJob).where(IngestJob.id == job_id, IngestJob.lease_owner == token)
    )
    return _one(result)


async def retry_later(
    db: AsyncSession, job_id: int, token: str, *, at: datetime, error: str
) -> bool:
    result = await db.execute(
        update(IngestJob)
        .where(IngestJob.id == job_id, IngestJob.lease_owner == token)
        .values(available_at=at, lease_owner=None, last_error=error[:2000])
    )
    return _one(result)


async def pending(db: AsyncSession) -> int:
    """How many jobs exist (waiting or leased): what the tests and the CLI wait on."""
    found = await db.scalars(select(IngestJob.id))
    return len(found.all())


def _one(result: object) -> bool:
    return isinstance(result, CursorResult) and result.rowcount == 1
