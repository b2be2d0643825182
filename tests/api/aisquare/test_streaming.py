"""A user with 20,000 sessions: the unpaged list is complete, ordered, and streamed."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import insert

from chatkeep.api.aisquare.streaming import CHUNK_ITEMS
from chatkeep.core.models import ChatSession
from chatkeep.core.uow import UnitOfWork
from tests.api.aisquare.seed import LIST, assert_seed_shape
from tests.factories import Key, World

# About 20 s per backend, most of it tracemalloc's own overhead.
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SESSIONS = 20_000
PIN_EVERY = 1_000
BASE = datetime(2024, 1, 1, tzinfo=UTC)


async def _bulk_sessions(world: World, key: Key) -> list[str]:
    """Insert the sessions in one statement; returns their titles in the expected order."""
    principal = await world.principal(key)
    domain = await world.domain(key.tenant, "Bulk")
    rows: list[dict[str, Any]] = []
    for n in range(SESSIONS):
        pinned = n % PIN_EVERY == 0
        # Pairs share an activity time, so the id tiebreak decides between them.
        active = BASE + timedelta(seconds=n // 2)
        pinned_at = BASE + timedelta(days=365, seconds=n) if pinned else None
        rows.append({
            "tenant_id": principal.tenant_id, "user_pk": principal.user_pk,
            "domain_id": domain.id, "title": f"s{n:05d}", "is_pinned": pinned,
            "pinned_at": pinned_at, "created_at": active, "updated_at": active,
            "recent_at": pinned_at or active,
        })  # fmt: skip

    async def insert_all(uow: UnitOfWork) -> None:
        await uow.db.execute(insert(ChatSession), rows)

    await world.run(insert_all)
    # Rows are inserted in order, so a later n has a larger id: newest-first is n descending.
    pinned = [r["title"] for r in reversed(rows) if r["is_pinned"]]
    return pinned + [r["title"] for r in reversed(rows) if not r["is_pinned"]]


async def _get_chunks(app: FastAPI, key: Key) -> list[bytes]:
    """Call the app directly, seeing each body message apart (httpx joins them)."""
    chunks: list[bytes] = []
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "server": ("chatkeep.test", 80), "client": ("127.0.0.1", 1),
        "path": LIST, "raw_path": LIST.encode(), "root_path": "", "query_string": b"",
        "headers": [(b"authorization", key.headers["Authorization"].encode())],
    }  # fmt: skip
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if requested:  # the client stays connected: wait until the server stops listening
            await anyio.Event().wait()
        requested = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            assert message["status"] == 200
        elif message.get("body"):
            chunks.append(message["body"])

    await app(scope, receive, send)
    return chunks


async def test_twenty_thousand_sessions_stream_complete_and_in_order(
    app: FastAPI, world: World
) -> None:
    key = await world.key(await world.tenant())
    expected = await _bulk_sessions(world, key)
    tracemalloc.start()
    try:
        chunks = await _get_chunks(app, key)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    body = b"".join(chunks)
    sessions = orjson.loads(body)
    assert [s["title"] for s in sessions] == expected
    assert len({s["id"] for s in sessions}) == SESSIONS
    assert_seed_shape(sessions[0])
    assert_seed_shape(sessions[-1])
    assert sessions[0]["is_pinned"] and not sessions[SESSIONS // PIN_EVERY]["is_pinned"]
    # Streamed: one body message per chunk of items, none holding the whole array...
    assert len(chunks) == SESSIONS // CHUNK_ITEMS + 1
    assert max(len(c) for c in chunks) < len(body) / 10
    # ...and, beyond the chunks this test collects, the server holds less at once than the
    # whole array costs (its rows as Python objects are several times len(body)). The bound
    # is len(body), not half of it: allocator and driver buffers put the peak at 0.4-0.55x
    # depending on the machine's installed wheels, which made the half bound fail by chance.
    assert peak - len(body) < len(body), (peak, len(body))
