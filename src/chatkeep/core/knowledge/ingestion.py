"""Ingestion: take a job, parse outside any transaction, write the chunks, release the job.

Each step is its own short unit of work: the claim (which marks the document
``parsing``), reading the bytes, and the result (chunks, index entries and ``ready``, or
``failed`` with a reason, in the transaction that removes the job). The result is
committed only while the job is still leased to this worker, so a worker that was
presumed dead and lost its job cannot overwrite the one that took it over.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta

from chatkeep.core.clock import utcnow
from chatkeep.core.knowledge import parsing, words
from chatkeep.core.knowledge.chunking import ChunkDraft, chunk
from chatkeep.core.knowledge.models import Chunk
from chatkeep.core.knowledge.parsing import Limits, ParseFailure
from chatkeep.core.knowledge.repository import chunks as chunk_rows
from chatkeep.core.knowledge.repository import documents as rows
from chatkeep.core.knowledge.repository import jobs, search
from chatkeep.core.uow import UnitOfWork

log = logging.getLogger("chatkeep.ingestion")
Units = Callable[..., AbstractAsyncContextManager[UnitOfWork]]  # units(write=...)


@dataclass(frozen=True, slots=True)
class IngestConfig:
    limits: Limits
    lease_seconds: float = 300
    max_attempts: int = 3
    retry_seconds: float = 5
    parse_timeout_seconds: float = 120


@dataclass(frozen=True, slots=True)
class Prepared:
    drafts: list[ChunkDraft]
    index_texts: list[str]  # per draft: its heading path and text, cut into words
    pages: int | None
    text_chars: int


@dataclass(frozen=True, slots=True)
class _Claim:
    job_id: int
    token: str
    number: int
    tenant_id: int
    attempts: int
    last_error: str | None


class _LeaseLost(Exception):
    """Our job was taken over (or its document deleted): discard what we made."""


def prepare(data: bytes, content_type: str, limits: Limits) -> Prepared:
    """Parse, chunk and cut into words: CPU only, no database (runs in a thread)."""
    parsed = parsing.parse(data, content_type, limits)
    drafts = chunk(parsed)
    texts = [words.index_text(" ".join([*d.heading_path, d.text])) for d in drafts]
    return Prepared(drafts, texts, parsed.pages, len(parsed.text))


async def process_one(units: Units, config: IngestConfig) -> bool:
    """Work on one job if one is due; False when there was none."""
    claim = await _claim(units, config)
    if claim is None:
        return False
    try:
        await _ingest(units, config, claim)
    except _LeaseLost:
        log.warning(
            "document %s was deleted or its job retaken meanwhile; result discarded", claim.number
        )
    return True


async def _claim(units: Units, config: IngestConfig) -> _Claim | None:
    now, token = utcnow(), secrets.token_hex(16)
    async with units(write=True) as uow:
        lease_until = now + timedelta(seconds=config.lease_seconds)
        job = await jobs.claim(uow.db, now=now, lease_until=lease_until, token=token)
        if job is None:
            return None
        await rows.update_document(
            uow.db, job.document_number, {"status": "parsing", "started_at": now, "updated_at": now}
        )
        return _Claim(
            job.id, token, job.document_number, job.tenant_id, job.attempts, job.last_error
        )


async def _ingest(units: Units, config: IngestConfig, claim: _Claim) -> None:
    if claim.attempts > config.max_attempts:
        why = claim.last_error or "its worker stopped (crash or timeout) every time"
        await _fail(
            units, claim, f"ingestion gave up after {config.max_attempts} attempts: {why}", 0
        )
        return
    async with units(write=False) as uow:
        document = await rows.by_number(uow.db, claim.number)
        data = await rows.content(uow.db, claim.tenant_id, claim.number)
    if document is None or data is None:
        return  # deleted meanwhile; its job went with it
    started = time.monotonic()
    try:
        prepared = await asyncio.wait_for(
            asyncio.to_thread(prepare, data, document.content_type, config.limits),
            config.parse_timeout_seconds,
        )
    except ParseFailure as failure:
        await _fail(units, claim, failure.reason, _ms(started))
    except TimeoutError:
        reason = f"parsing took longer than the limit of {config.parse_timeout_seconds:g} s"
        await _fail(units, claim, reason, _ms(started))
    except Exception as exc:  # a parser bug or a resource problem: worth another try
        log.exception("ingestion of document %s failed unexpectedly", claim.number)
        await _retry(units, config, claim, f"{type(exc).__name__}: {exc}")
    else:
        await _store(units, claim, prepared, _ms(started))


async def _store(units: Units, claim: _Claim, prepared: Prepared, parse_ms: int) -> None:
    async with units(write=True) as uow:
        # The job first: gone means the lease was lost or the document deleted, and its
        # row lock (PostgreSQL) holds off a concurrent delete until this commits.
        if not await jobs.finish(uow.db, claim.job_id, claim.token):
            raise _LeaseLost
        ids = await chunk_rows.insert_chunks(uow.db, [_row(claim, d) for d in prepared.drafts])
        await search.index_chunks(
            uow.db, claim.tenant_id, list(zip(ids, prepared.index_texts, strict=True))
        )
        now = utcnow()
        await rows.update_document(uow.db, claim.number, {
            "status": "ready", "error": None, "pages": prepared.pages,
            "chunk_count": len(ids), "text_chars": prepared.text_chars, "parse_ms": parse_ms,
            "finished_at": now, "updated_at": now,
        })  # fmt: skip


async def _fail(units: Units, claim: _Claim, reason: str, parse_ms: int) -> None:
    async with units(write=True) as uow:
        if not await jobs.finish(uow.db, claim.job_id, claim.token):
            raise _LeaseLost
        now = utcnow()
        await rows.update_document(uow.db, claim.number, {
            "status": "failed", "error": reason, "parse_ms": parse_ms,
            "finished_at": now, "updated_at": now,
        })  # fmt: skip


async def _retry(units: Units, config: IngestConfig, claim: _Claim, error: str) -> None:
    backoff = config.retry_seconds * 2 ** (claim.attempts - 1)
    async with units(write=True) as uow:
        now = utcnow()
        at = now + timedelta(seconds=backoff)
        if not await jobs.retry_later(uow.db, claim.job_id, claim.token, at=at, error=error):
            raise _LeaseLost
        await rows.update_document(uow.db, claim.number, {"status": "queued", "updated_at": now})


def _row(claim: _Claim, draft: ChunkDraft) -> Chunk:
    return Chunk(
        tenant_id=claim.tenant_id, document_number=claim.number, seq=draft.seq,
        page_start=draft.page_start, page_end=draft.page_end, char_start=draft.char_start,
        char_end=draft.char_end, heading_path=draft.heading_path, text=draft.text,
    )  # fmt: skip


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
