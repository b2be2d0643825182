"""Ingestion workers: in-process with `chatkeep serve`, or alone with `chatkeep worker`.

Any number of them, on any number of hosts, share the one job table (see
core/knowledge/ingestion.py); a worker that dies leaves its job to be taken again when
its lease ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from chatkeep.core.knowledge import words
from chatkeep.core.knowledge.ingestion import IngestConfig, Units, process_one
from chatkeep.core.knowledge.parsing import Limits
from chatkeep.runtime import Runtime, unit_of_work
from chatkeep.settings import Settings

log = logging.getLogger("chatkeep.ingestion")
UNPACKED_PER_BYTE = 20  # a DOCX may expand to 20x the document size limit, no more


def ingest_config(settings: Settings) -> IngestConfig:
    return IngestConfig(
        limits=Limits(
            max_pages=settings.documents_max_pages,
            max_text_chars=settings.documents_max_text_chars,
            max_unpacked_bytes=settings.documents_max_bytes * UNPACKED_PER_BYTE,
        ),
        lease_seconds=settings.ingest_lease_seconds,
        max_attempts=settings.ingest_max_attempts,
        retry_seconds=settings.ingest_retry_seconds,
        parse_timeout_seconds=settings.ingest_parse_timeout_seconds,
    )


def runtime_units(runtime: Runtime) -> Units:
    return functools.partial(unit_of_work, runtime)


async def ingest_pending(runtime: Runtime, *, limit: int = 1000) -> int:
    """Process due jobs until none is left (or ``limit``); how many were processed."""
    units, config = runtime_units(runtime), ingest_config(runtime.settings)
    done = 0
    while done < limit and await process_one(units, config):
        done += 1
    return done


async def work(runtime: Runtime, stop: asyncio.Event) -> None:
    """One worker: take jobs until ``stop`` is set; an error never ends the loop."""
    units, config = runtime_units(runtime), ingest_config(runtime.settings)
    await asyncio.to_thread(words.warm_up)
    while not stop.is_set():
        try:
            busy = await process_one(units, config)
        except Exception:  # the database is down, say: log, wait, try again
            log.exception("ingestion worker error; retrying")
            busy = False
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), runtime.settings.ingest_poll_seconds)


@contextlib.asynccontextmanager
async def ingestion_workers(runtime: Runtime, count: int) -> AsyncIterator[None]:
    """Run ``count`` workers for the duration of the block (the app's lifespan)."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(work(runtime, stop)) for _ in range(count)]
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            task.cancel()  # a job cut short is retaken when its lease ends
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_workers(runtime: Runtime, count: int) -> None:
    """`chatkeep worker`: run until cancelled (Ctrl-C / SIGTERM)."""
    async with ingestion_workers(runtime, count):
        await asyncio.Event().wait()
