"""SQL for web sign-in: one-time login tokens and browser sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.models import Tenant, User, WebLoginToken, WebSession


async def insert_login_token(db: AsyncSession, token: WebLoginToken) -> WebLoginToken:
    db.add(token)
    await db.flush()
    return token


async def find_login_token(db: AsyncSession, lookup: str) -> WebLoginToken | None:
    found: WebLoginToken | None = await db.scalar(
        select(WebLoginToken).where(WebLoginToken.lookup == lookup)
    )
    return found


async def spend_login_token(db: AsyncSession, token: WebLoginToken, now: datetime) -> bool:
    """Mark the token used; False when another request spent it first (one winner)."""
    result = await db.execute(
        update(WebLoginToken)
        .where(
            WebLoginToken.tenant_id == token.tenant_id,
            WebLoginToken.id == token.id,
            WebLoginToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_web_session(db: AsyncSession, session: WebSession) -> WebSession:
    db.add(session)
    await db.flush()
    return session


async def find_web_session(db: AsyncSession, lookup: str) -> tuple[WebSession, str, str] | None:
    """The session with its tenant's name and its user's external id, in one query."""
    row = (
        await db.execute(
            select(WebSession, Tenant.name, User.external_id)
            .join(Tenant, Tenant.id == WebSession.tenant_id)
            .join(User, User.id == WebSession.user_pk)
            .where(WebSession.lookup == lookup)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def revoke_web_session(db: AsyncSession, session: WebSession, now: datetime) -> None:
    await db.execute(
        update(WebSession)
        .where(
            WebSession.tenant_id == session.tenant_id,
            WebSession.id == session.id,
            WebSession.revoked_at.is_(None),
        )
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
