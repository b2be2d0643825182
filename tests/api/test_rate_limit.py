"""The per-credential rate limit: exact under concurrent bursts, in every dialect's format.

Each test builds its own app with a small budget (the shared fixture's is the default).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from chatkeep.app import create_app
from chatkeep.core.errors import RateLimited
from chatkeep.ratelimit import RateLimiter
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.api.aidoc.wire import SESSION_LIST, error
from tests.factories import World

pytestmark = pytest.mark.anyio

BUDGET = 5
WINDOW = 3600
# The limiters' clocks are pinned mid-window (a past one), so no burst ever straddles two
# windows (each has its own budget) whatever the time the suite runs at.
MID_WINDOW = 1_700_000_000 // WINDOW * WINDOW + WINDOW / 2
NATIVE = "/v1/sessions"
AISQUARE = "/api/v1/qllm/chat-sessions/"


@pytest.fixture
async def limited(
    settings: Settings, app: FastAPI
) -> AsyncIterator[tuple[httpx.AsyncClient, World]]:
    """A client of an app with a small budget. Takes the shared ``app`` fixture only for
    its teardown, which empties the tables this test wrote to."""
    small_budget = create_app(
        settings.model_copy(
            update={"rate_limit_requests": BUDGET, "rate_limit_window_seconds": WINDOW}
        )
    )
    state: Runtime = small_budget.state.chatkeep
    assert state.rate_limiter is not None
    state.rate_limiter.clock = lambda: MID_WINDOW
    transport = httpx.ASGITransport(app=small_budget, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as c:
            yield c, World(state)
    finally:
        await state.engine.dispose()


async def burst(
    client: httpx.AsyncClient, n: int, method: str, path: str, **kw: object
) -> list[httpx.Response]:
    return list(await asyncio.gather(*(client.request(method, path, **kw) for _ in range(n))))  # type: ignore[arg-type]


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


async def test_a_concurrent_burst_gets_exactly_the_budget(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = limited
    key = await world.key(await world.tenant())
    responses = await burst(client, 3 * BUDGET, "GET", NATIVE, headers=key.headers)
    assert statuses(responses) == {200: BUDGET, 429: 2 * BUDGET}
    refused = next(r for r in responses if r.status_code == 429)
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["type"] == "urn:chatkeep:problem:rate-limited"
    assert 1 <= int(refused.headers["retry-after"]) <= WINDOW


async def test_a_burst_of_writes_stores_only_what_was_admitted(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = limited
    key = await world.key(await world.tenant())
    responses = await burst(
        client, 2 * BUDGET, "POST", NATIVE, headers=key.headers, json={"title": "burst"}
    )
    assert statuses(responses) == {201: BUDGET, 429: BUDGET}
    stored = await world.run(
        lambda uow: uow.db.scalar(sa.text("SELECT count(*) FROM sessions WHERE title = 'burst'"))
    )
    assert stored == BUDGET


async def test_each_credential_has_its_own_budget(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = limited
    tenant = await world.tenant()
    first, second = await world.key(tenant), await world.key(tenant)  # same user, two keys
    await burst(client, BUDGET, "GET", NATIVE, headers=first.headers)
    assert (await client.get(NATIVE, headers=first.headers)).status_code == 429
    assert (await client.get(NATIVE, headers=second.headers)).status_code == 200


async def test_failed_authentication_spends_nothing(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = limited
    key = await world.key(await world.tenant())
    forged = {"Authorization": f"Bearer {key.key[:-4]}AAAA"}  # the victim's lookup prefix
    assert statuses(await burst(client, 3 * BUDGET, "GET", NATIVE, headers=forged)) == {401: 15}
    assert statuses(await burst(client, BUDGET, "GET", NATIVE, headers=key.headers)) == {200: 5}


async def test_aisquare_answers_in_drf_throttled_shape(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = limited
    key = await world.key(await world.tenant())
    responses = await burst(client, BUDGET + 2, "GET", AISQUARE, headers=key.headers)
    assert statuses(responses) == {200: BUDGET, 429: 2}
    refused = next(r for r in responses if r.status_code == 429)
    wait = int(refused.headers["retry-after"])
    unit = "second" if wait == 1 else "seconds"
    assert refused.json() == {
        "detail": f"Request was throttled. Expected available in {wait} {unit}."
    }


async def test_aidoc_answers_with_alibabas_flow_control_error(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    client, world = limited
    key = await world.key(await world.tenant())
    responses = await burst(client, BUDGET + 2, "POST", SESSION_LIST, headers=key.headers, json={})
    assert statuses(responses) == {200: BUDGET, 400: 2}
    refused = next(r for r in responses if r.status_code == 400)
    body = error(refused, 400, "Throttling.User")
    assert body["message"] == "Request was denied due to user flow control."
    assert int(refused.headers["retry-after"]) >= 1
    # x-acs-retry-after would make the SDK raise ThrottlingException, not ClientException.
    assert "x-acs-retry-after" not in refused.headers


async def test_all_dialects_share_one_budget(limited: tuple[httpx.AsyncClient, World]) -> None:
    client, world = limited
    key = await world.key(await world.tenant())
    assert (await client.get(NATIVE, headers=key.headers)).status_code == 200
    assert (await client.get(AISQUARE, headers=key.headers)).status_code == 200
    assert (await client.post(SESSION_LIST, headers=key.headers, json={})).status_code == 200
    await burst(client, BUDGET - 3, "GET", NATIVE, headers=key.headers)
    assert (await client.get(AISQUARE, headers=key.headers)).status_code == 429


class SteppedClock:
    """A clock that moves only when the test says."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_a_new_window_restores_the_budget_and_idle_counters_are_pruned(
    settings: Settings,
) -> None:
    app = create_app(settings)
    state: Runtime = app.state.chatkeep
    clock = SteppedClock(1_000.5)
    limiter = RateLimiter(settings.database_url, limit=2, window_seconds=1, clock=clock)
    limiter.dispose_with(state.engine)
    try:
        for _ in range(2):
            await limiter.hit("cred-a")
        with pytest.raises(RateLimited):
            await limiter.hit("cred-a")
        clock.now = 1_001.5  # the next one-second window
        await limiter.hit("cred-a")  # a fresh window: admitted again
        await limiter.hit("cred-idle")
        clock.now = 1_003.5  # two windows later
        await limiter.hit("cred-a")  # this process's first hit of the window prunes
        engine = await limiter._engine_ready()
        async with engine.connect() as conn:
            ids = set(
                (await conn.execute(sa.text("SELECT credential_id FROM rate_limits"))).scalars()
            )
        assert "cred-idle" not in ids
        assert "cred-a" in ids
    finally:
        await state.engine.dispose()


async def test_the_last_instant_of_a_window_and_the_first_of_the_next_count_apart(
    settings: Settings,
) -> None:
    app = create_app(settings)
    state: Runtime = app.state.chatkeep
    clock = SteppedClock(2 * WINDOW - 0.001)
    limiter = RateLimiter(settings.database_url, limit=1, window_seconds=WINDOW, clock=clock)
    limiter.dispose_with(state.engine)
    try:
        await limiter.hit("cred-edge")
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("cred-edge")
        assert refused.value.retry_after == 1  # never 0: the window ends within a second
        clock.now = 2 * WINDOW  # the next window starts exactly here
        await limiter.hit("cred-edge")
        with pytest.raises(RateLimited) as refused:
            await limiter.hit("cred-edge")
        assert refused.value.retry_after == WINDOW
    finally:
        await state.engine.dispose()


def _admitted_in_this_process(database_url: str, credential: str, attempts: int) -> int:
    """Run in a child process: ``attempts`` concurrent hits; how many were admitted."""

    async def main() -> int:
        limiter = RateLimiter(
            database_url, limit=BUDGET, window_seconds=WINDOW, clock=lambda: MID_WINDOW
        )
        results = await asyncio.gather(
            *(limiter.hit(credential) for _ in range(attempts)), return_exceptions=True
        )
        engine = await limiter._engine_ready()
        await engine.dispose()
        assert all(r is None or isinstance(r, RateLimited) for r in results), results
        return sum(r is None for r in results)

    return asyncio.run(main())


def test_counts_are_exact_across_processes(database_url: str) -> None:
    """Two OS processes spending one credential's budget through one shared store."""
    credential = f"cross-process-{time.time_ns()}"
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool:
        admitted = list(
            pool.map(_admitted_in_this_process, [database_url] * 2, [credential] * 2, [BUDGET] * 2)
        )
    assert sum(admitted) == BUDGET  # 2 x BUDGET attempts, exactly BUDGET admitted


def test_zero_turns_the_limit_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_requests": 0}))
    assert app.state.chatkeep.rate_limiter is None


async def test_an_append_the_fast_lane_hands_to_the_full_path_is_counted_once(
    limited: tuple[httpx.AsyncClient, World],
) -> None:
    """The lane spends the budget before its write and may then give the request to the
    full path (here: a session it does not find), which must not spend it again."""
    client, world = limited
    key = await world.key(await world.tenant())
    session = await world.session(key, title="mine")
    message = {"role": "user", "content": "hi"}
    missing = f"{NATIVE}/00000000-0000-4000-8000-000000000000/messages"
    for _ in range(BUDGET - 1):
        assert (await client.post(missing, headers=key.headers, json=message)).status_code == 404
    appended = await client.post(f"{NATIVE}/{session.uuid}/messages", headers=key.headers,
                                 json=message)  # fmt: skip
    assert appended.status_code == 201  # the budget's last unit: each 404 spent one
    assert (await client.get(NATIVE, headers=key.headers)).status_code == 429
