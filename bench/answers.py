"""Answers: time to first token added by chatkeep, many concurrent streams, write cost.

    PYTHONPATH=. uv run python bench/answers.py [DATABASE_URL ...] [--streams 200] [--rate 20]

A scripted OpenAI-compatible provider (tests/answers_support.py) sends its first token at
once and the rest at ``--rate`` tokens/s, so the model's speed is not what is measured.
The server is the real app under uvicorn in this process (one worker); the load is httpx
in the same event loop, so the figures include the client's own cost (an upper bound).

1. TTFT: sequential questions; from sending the POST to receiving the first ``delta``
   (question stored, retrieval, references written, provider request, first delta written
   and read back), p50/p99.
2. Concurrency: ``--streams`` answers at once (one session each), with GET /v1/sessions
   polled meanwhile (its p99), and the process's peak RSS growth.
3. Persistence cost: event rows (= write transactions) per answer.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from chatkeep.core.models import AnswerEvent
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.runtime import unit_of_work
from chatkeep.settings import Settings
from tests.answers_support import EventReader, Library, Script, scripted_provider, worker
from tests.factories import World

TOKENS = 40


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def first_delta(client: httpx.AsyncClient, headers: dict[str, str], sid: str) -> float:
    started = time.perf_counter()
    async with client.stream(
        "POST",
        f"/v1/sessions/{sid}/answers",
        headers=headers,
        json={"question": "What is the capital of France?"},
    ) as resp:
        reader = EventReader(resp)
        await reader.read(stop_after="delta")
        ttft = time.perf_counter() - started
        await reader.read()
    return ttft * 1000


async def run(url: str, streams: int, rate: float, questions: int) -> dict[str, Any]:
    script = Script(tokens=[f"w{n} " for n in range(TOKENS - 1)] + ["[1]."], delay=1 / rate)
    library = Library()
    with scripted_provider(script) as provider:
        settings = Settings(
            database_url=url, secret_key="bench", llm_base_url=provider,  # type: ignore[arg-type]
            access_log=False, rate_limit_requests=0, db_pool_size=20,
            answer_max_running_per_credential=streams + 10,
        )  # fmt: skip
        async with worker(settings, library) as node:
            world = World(node.runtime)
            key = await world.key(await world.tenant())
            sids = [str((await world.session(key, title=f"s{n}")).uuid) for n in range(streams)]
            domain = (await world.session(key, title="d")).domain_id
            library.add(domain, "france.pdf", "Paris is the capital of France.")
            limits = httpx.Limits(max_connections=streams + 20)
            async with httpx.AsyncClient(base_url=node.url, timeout=600, limits=limits) as client:
                ttfts = [await first_delta(client, key.headers, sids[n % streams])
                         for n in range(questions)]  # fmt: skip
                rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                lists: list[float] = []
                done = asyncio.Event()

                async def poll_lists() -> None:
                    while not done.is_set():
                        t = time.perf_counter()
                        await client.get("/v1/sessions", headers=key.headers)
                        lists.append((time.perf_counter() - t) * 1000)

                poller = asyncio.create_task(poll_lists())
                started = time.perf_counter()
                concurrent = await asyncio.gather(
                    *(first_delta(client, key.headers, sid) for sid in sids)
                )
                wall = time.perf_counter() - started
                done.set()
                await poller
                rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            async with unit_of_work(node.runtime, write=False) as uow:
                rows = await uow.db.scalar(select(func.count()).select_from(AnswerEvent))
    answers = questions + streams
    return {
        "database": url.split(":", 1)[0], "ttft_p50_ms": pct(ttfts, 0.5),
        "ttft_p99_ms": pct(ttfts, 0.99), "streams": streams, "rate": rate,
        "concurrent_wall_s": round(wall, 2),
        "concurrent_ttft_p50_ms": pct(concurrent, 0.5),
        "concurrent_ttft_p99_ms": pct(concurrent, 0.99),
        "list_p99_ms_during": pct(lists, 0.99) if lists else None, "list_requests": len(lists),
        "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "events_per_answer": round((rows or 0) / answers, 1), "tokens_per_answer": TOKENS,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="*")
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    urls = args.urls or [f"sqlite:///{Path(tempfile.mkdtemp()) / 'answers.db'}"]
    for url in urls:
        upgrade_to_head(Settings(database_url=url, secret_key="bench"))  # type: ignore[arg-type]
        result = asyncio.run(run(url, args.streams, args.rate, args.questions))
        print(" ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                       for k, v in result.items()))  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
