"""The ingestion queue on real SQLite and PostgreSQL: leases, retries, time limits."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from typing import Any

import pytest

from chatkeep.core.knowledge import documents, ingestion
from chatkeep.core.knowledge.repository import jobs
from chatkeep.workers import ingest_config, runtime_units
from tests.factories import Key, World

pytestmark = pytest.mark.anyio


async def _one_document(world: World, data: bytes = b"Parks open at six.") -> tuple[Key, uuid.UUID]:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    added = await world.document(key, domain.id, "doc.txt", data)
    return key, added.document.id


async def _status(world: World, key: Key, document_id: uuid.UUID) -> Any:
    principal = await world.principal(key)

    async def read(uow: Any) -> Any:
        return await documents.get_document(uow, principal, document_id)

    return await world.run(read, write=False)


def _config(world: World, **changes: Any) -> ingestion.IngestConfig:
    return dataclasses.replace(ingest_config(world.state.settings), **changes)


async def test_a_dead_workers_job_is_taken_again_when_its_lease_ends(world: World) -> None:
    key, document_id = await _one_document(world)
    units = runtime_units(world.state)
    # A worker claims the job (its lease ends at once) and dies before finishing.
    dead = await ingestion._claim(units, _config(world, lease_seconds=0))
    assert dead is not None
    assert (await _status(world, key, document_id)).status == "parsing"

    assert await ingestion.process_one(units, _config(world)) is True

    assert (await _status(world, key, document_id)).status == "ready"
    async with world.uow() as uow:  # the dead worker's late result is refused
        assert await jobs.finish(uow.db, dead.job_id, dead.token) is False


async def test_a_leased_job_is_not_taken_twice(world: World) -> None:
    await _one_document(world)
    units = runtime_units(world.state)
    assert await ingestion._claim(units, _config(world)) is not None

    assert await ingestion.process_one(units, _config(world)) is False


async def test_unexpected_errors_are_retried_then_the_document_fails_with_the_reason(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, document_id = await _one_document(world)

    def broken(*_args: Any) -> Any:
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(ingestion, "prepare", broken)
    units, config = runtime_units(world.state), _config(world, max_attempts=2, retry_seconds=0)

    assert await ingestion.process_one(units, config)
    assert (await _status(world, key, document_id)).status == "queued"  # to be retried
    assert await ingestion.process_one(units, config)
    assert await ingestion.process_one(units, config)  # the third claim gives up
    assert await ingestion.process_one(units, config) is False

    failed = await _status(world, key, document_id)
    assert failed.status == "failed"
    assert "gave up after 2 attempts" in failed.error and "parser exploded" in failed.error


async def test_a_retry_waits_for_its_backoff(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    await _one_document(world)
    monkeypatch.setattr(ingestion, "prepare", lambda *_: (_ for _ in ()).throw(OSError("disk")))
    units, config = runtime_units(world.state), _config(world, retry_seconds=3600)

    assert await ingestion.process_one(units, config)
    assert await ingestion.process_one(units, config) is False  # not due for an hour


async def test_parsing_past_the_time_limit_fails_the_document(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, document_id = await _one_document(world)
    real = ingestion.prepare

    def slow(*args: Any) -> Any:
        time.sleep(0.5)
        return real(*args)

    monkeypatch.setattr(ingestion, "prepare", slow)

    await ingestion.process_one(
        runtime_units(world.state), _config(world, parse_timeout_seconds=0.05)
    )

    failed = await _status(world, key, document_id)
    assert failed.status == "failed" and "longer than the limit" in failed.error


async def test_a_document_deleted_while_parsing_leaves_nothing_behind(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, document_id = await _one_document(world)
    principal = await world.principal(key)
    real = ingestion.prepare

    async def delete(uow: Any) -> None:
        await documents.delete_document(uow, principal, document_id)

    loop = asyncio.get_running_loop()

    def deleting(*args: Any) -> Any:  # the user deletes it while the worker parses
        asyncio.run_coroutine_threadsafe(world.run(delete), loop).result(timeout=60)
        return real(*args)

    monkeypatch.setattr(ingestion, "prepare", deleting)

    assert await ingestion.process_one(runtime_units(world.state), _config(world))

    async with world.uow(write=False) as uow:
        assert await jobs.pending(uow.db) == 0
    assert await world.retrieve(key, "parks") == []
