"""What the rate limiter and the access log cost on the hot read path (GET /v1/sessions).

    uv run python bench/limits_overhead.py sqlite:///tmp/b.db postgresql://postgres@127.0.0.1/b

Drives the ASGI app in-process (no network), one credential, 20 sessions listed per
request; prints requests per second with each guard off/on, at concurrency 1 and 8.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from chatkeep.app import create_app
from chatkeep.core import sessions, tenants
from chatkeep.core.types import CredentialKind, NewSession
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.ratelimit import RateLimiter
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings

REQUESTS = 300
VARIANTS = {
    "no limiter, no access log": {"rate_limit_requests": 0, "access_log": False},
    "limiter, no access log": {"rate_limit_requests": 10**9, "access_log": False},
    "limiter + access log": {"rate_limit_requests": 10**9, "access_log": True},
}


async def seed(state: Runtime) -> str:
    from chatkeep.core.auth import authenticate_api_key
    from chatkeep.runtime import unit_of_work

    name = f"bench-{time.time_ns()}"
    async with unit_of_work(state, write=True) as uow:
        await tenants.create_tenant(uow, name)
        issued = await tenants.create_api_key(
            uow, name, "u", kind=CredentialKind.USER, scopes=("*",), expires_in=None
        )
    async with unit_of_work(state, write=True) as uow:
        principal = await authenticate_api_key(uow, issued.key)
        for n in range(40):
            await sessions.create_session(uow, principal, NewSession(title=f"s{n}"))
    return issued.key


async def rate(settings: Settings, key: str | None, concurrency: int) -> tuple[float, str]:
    app = create_app(settings)
    state: Runtime = app.state.chatkeep
    key = key or await seed(state)
    headers = {"Authorization": f"Bearer {key}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

        async def worker(n: int) -> None:
            for _ in range(n):
                response = await client.get("/v1/sessions", headers=headers)
                assert response.status_code == 200, response.text

        await worker(20)  # warm up
        started = time.perf_counter()
        await asyncio.gather(*(worker(REQUESTS // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    await state.engine.dispose()
    return REQUESTS / elapsed, key


async def hit_cost(url: str, hits: int = 1000) -> float:
    """Milliseconds per limiter hit (one upsert on its own connection), sequentially."""
    limiter = RateLimiter(url, limit=10**9, window_seconds=60)
    await limiter.hit("warm-up")
    started = time.perf_counter()
    for _ in range(hits):
        await limiter.hit("bench")
    elapsed = time.perf_counter() - started
    await (await limiter._engine_ready()).dispose()
    return elapsed / hits * 1000


def main(urls: list[str]) -> None:
    for url in urls:
        backend = url.split(":")[0]
        base = Settings(database_url=url)
        upgrade_to_head(base)
        print(f"{backend:10} limiter hit: {asyncio.run(hit_cost(url)):.3f} ms", flush=True)
        key: str | None = None
        best: dict[tuple[str, int], float] = {}
        for _round in range(3):  # interleaved, best of three: the host is shared
            for name, update in VARIANTS.items():
                for concurrency in (1, 8):
                    settings = base.model_copy(update=update)
                    per_second, key = asyncio.run(rate(settings, key, concurrency))
                    best[name, concurrency] = max(best.get((name, concurrency), 0), per_second)
        for (name, concurrency), per_second in best.items():
            print(f"{backend:10} {name:28} c={concurrency}  {per_second:7.0f} req/s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
