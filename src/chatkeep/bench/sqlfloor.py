"""The SQL floor: the exact statements one request runs, replayed and timed in-process.

The request is made once through the real app in this process while a cursor-level
event listener records every statement and its driver-ready parameters (API-key lookup
included: it is part of the request). Those are then replayed on one connection, with
no HTTP, no ORM and no rendering, and timed: what is left is the database's own time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import event

from chatkeep.app import create_app
from chatkeep.bench.loadgen import WireRequest
from chatkeep.bench.stats import latency_summary
from chatkeep.settings import Settings

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")


@dataclass(frozen=True, slots=True)
class CapturedRequest:
    status: int
    statements: list[tuple[str, Any]]


async def capture_statements(settings: Settings, request: WireRequest) -> CapturedRequest:
    """Run ``request`` through the app in-process and record the SQL it sends.

    Through the full path (``fast_lane=False``): the fast lane runs the same statements
    (or, for the AISquare list, the same with fewer columns) without the engine, so its
    SQL cannot be recorded here."""
    app = create_app(settings.model_copy(update={"fast_lane": False}))
    engine = app.state.chatkeep.engine
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            seen.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            response = await client.request(
                request.method, request.path, headers=request.all_headers,
                content=request.body.encode() if request.body is not None else None,
            )  # fmt: skip
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        await engine.dispose()
    return CapturedRequest(response.status_code, seen)


async def time_statements(
    settings: Settings, captured: CapturedRequest, seconds: float, max_rounds: int = 5_000
) -> dict[str, Any]:
    """Replay the statements in a loop for ``seconds``; one round = one request's SQL."""
    app = create_app(settings)
    engine = app.state.chatkeep.engine
    samples: list[int] = []
    try:
        async with engine.connect() as conn:
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline and len(samples) < max_rounds:
                began = time.perf_counter_ns()
                for statement, parameters in captured.statements:
                    result = await conn.exec_driver_sql(statement, parameters)
                    if result.returns_rows:
                        result.fetchall()
                samples.append(time.perf_counter_ns() - began)
                await conn.rollback()  # reads only; the next round starts a fresh snapshot
    finally:
        await engine.dispose()
    summary = latency_summary(samples, seconds)
    summary["statements"] = len(captured.statements)
    return summary
