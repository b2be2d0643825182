"""Body limits in every dialect: 413 declared, chunked or understated; 408 for a slow body.

The ASGI app is driven directly, so the test controls exactly how the body arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from chatkeep.app import create_app
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

LIMIT = 64 * 1024  # the shared settings fixture's max_body_bytes
# Each dialect's create, which would store a session if the body got through.
CREATES = {
    "native": "/v1/sessions",
    "aisquare": "/api/v1/qllm/chat-sessions/",
    "aidoc": "/api/v2/aidoc/document/chat/session/create",
}


def assert_refused(dialect: str, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["connection"] == "close"
    body: dict[str, Any] = response.json()
    if dialect == "native":
        kind = {413: "payload-too-large", 408: "request-timeout"}[status]
        assert body["type"] == f"urn:chatkeep:problem:{kind}"
        assert response.headers["content-type"] == "application/problem+json"
    elif dialect == "aisquare":
        assert set(body) == {"detail"}
    else:
        assert body["code"] == {413: "RequestEntityTooLarge", 408: "RequestTimeout"}[status]
        assert body["requestId"] == response.headers["x-acs-request-id"]


def big_title_body() -> bytes:
    """Valid JSON for every dialect's create (unknown or long fields refused later)."""
    return b'{"title": "' + b"x" * LIMIT + b'"}'


async def chunks(data: bytes, size: int = 8192, pause: float = 0) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        if pause:
            await asyncio.sleep(pause)
        yield data[start : start + size]


async def stored_sessions(world: World) -> int:
    count = await world.run(lambda uow: uow.db.scalar(sa.text("SELECT count(*) FROM sessions")))
    return int(count)


@pytest.fixture
async def key(world: World) -> Key:
    return await world.key(await world.tenant())


@pytest.mark.parametrize("dialect", sorted(CREATES))
async def test_declared_oversize_is_refused_before_reading(
    dialect: str, client: httpx.AsyncClient, world: World, key: Key
) -> None:
    response = await client.post(CREATES[dialect], headers=key.headers, content=big_title_body())
    assert_refused(dialect, response, 413)
    assert await stored_sessions(world) == 0


@pytest.mark.parametrize("dialect", sorted(CREATES))
async def test_chunked_oversize_is_cut_off_while_reading(
    dialect: str, client: httpx.AsyncClient, world: World, key: Key
) -> None:
    response = await client.post(
        CREATES[dialect], headers=key.headers, content=chunks(big_title_body())
    )
    assert "content-length" not in response.request.headers  # really sent chunked
    assert_refused(dialect, response, 413)
    assert await stored_sessions(world) == 0


@pytest.mark.parametrize("dialect", sorted(CREATES))
async def test_an_understated_content_length_does_not_get_past_the_limit(
    dialect: str, client: httpx.AsyncClient, world: World, key: Key
) -> None:
    headers = {**key.headers, "Content-Length": "20", "Content-Type": "application/json"}
    response = await client.post(
        CREATES[dialect], headers=headers, content=chunks(big_title_body())
    )
    assert response.request.headers["content-length"] == "20"
    assert_refused(dialect, response, 413)
    assert await stored_sessions(world) == 0


@pytest.mark.parametrize("dialect", sorted(CREATES))
async def test_a_body_at_the_limit_is_read(
    dialect: str, client: httpx.AsyncClient, key: Key
) -> None:
    body = b'{"title": "ok"}'
    padded = body[:-1] + b" " * (LIMIT - len(body)) + b"}"  # JSON whitespace up to the limit
    assert len(padded) == LIMIT
    response = await client.post(
        CREATES[dialect],
        headers={**key.headers, "Content-Type": "application/json"},
        content=padded,
    )
    assert response.status_code in (200, 201), response.text


@pytest.fixture
async def impatient(settings: Settings, app: FastAPI) -> AsyncIterator[tuple[FastAPI, World]]:
    """An app with a 0.5 s body timeout; the shared ``app`` only for its table cleanup."""
    slow_timeout = create_app(settings.model_copy(update={"body_timeout_seconds": 0.5}))
    state: Runtime = slow_timeout.state.chatkeep
    try:
        yield slow_timeout, World(state)
    finally:
        await state.engine.dispose()


@pytest.mark.parametrize("dialect", sorted(CREATES))
async def test_a_dribbled_body_is_answered_408_in_time(
    dialect: str, impatient: tuple[FastAPI, World]
) -> None:
    app, world = impatient
    key = await world.key(await world.tenant())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as client:
        loop = asyncio.get_running_loop()
        started = loop.time()
        # 2 bytes every 0.2 s: the whole body would take a minute to arrive.
        body = b'{"title": "slow"' + b" " * 580 + b"}"
        response = await client.post(
            CREATES[dialect],
            headers={**key.headers, "Content-Type": "application/json"},
            content=chunks(body, size=2, pause=0.2),
        )
        elapsed = loop.time() - started
    assert_refused(dialect, response, 408)
    # Refused after the 0.5 s timeout, long before the body ends (margin for a loaded
    # machine: the point is that the server does not wait for the sender).
    assert elapsed < 20
    assert await stored_sessions(world) == 0
