"""Liveness and readiness probes (unauthenticated, no body of interest)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from chatkeep.api.deps import app_state

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database is reachable")
async def readyz(request: Request) -> dict[str, str]:
    # A database error here propagates to the handlers, which answer 503.
    async with app_state(request).engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ready"}
