"""`chatkeep bench-knowledge`: ingestion throughput, retrieval latency and quality.

In-process on the configured database (SQLite file by default): a generated corpus is
uploaded through the core, ingested by N concurrent workers (the job queue for real),
then labelled questions are retrieved: p50/p99 latency per language, recall@5 and MRR
(full text; no embedder is configured by default, so hybrid is not reported).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from chatkeep.bench.knowledge_corpus import LabelledQuestion, corpus
from chatkeep.core import domains, tenants
from chatkeep.core.knowledge import documents, retrieval
from chatkeep.core.knowledge.types import DocumentListQuery, NewDocument
from chatkeep.core.types import Principal
from chatkeep.runtime import Runtime, unit_of_work
from chatkeep.settings import Settings
from chatkeep.workers import ingest_config, runtime_units


async def _setup(runtime: Runtime) -> tuple[Principal, uuid.UUID]:
    async with unit_of_work(runtime, write=True) as uow:
        tenant = await tenants.create_tenant(uow, f"bench-k-{uuid.uuid4().hex[:8]}")
        operator = tenants.operator_principal(tenant)
        domain = await domains.create_domain(uow, operator, "Corpus")
    return operator, domain.id


async def _upload(runtime: Runtime, who: Principal, domain_id: uuid.UUID, docs: list[Any]) -> None:
    for doc in docs:
        async with unit_of_work(runtime, write=True) as uow:
            await documents.add_document(
                uow, who, domain_id, NewDocument(doc.name, doc.data), 1 << 30
            )


async def _ingest(runtime: Runtime, workers: int) -> float:
    from chatkeep.core.knowledge.ingestion import process_one

    units, config = runtime_units(runtime), ingest_config(runtime.settings)

    async def worker() -> None:
        while await process_one(units, config):
            pass

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - started


async def _totals(runtime: Runtime, who: Principal, domain_id: uuid.UUID) -> dict[str, int]:
    pages = chunks = ready = 0
    cursor = None
    while True:
        async with unit_of_work(runtime, write=False) as uow:
            query = DocumentListQuery(domain_id=domain_id, limit=100, cursor=cursor)
            page = await documents.list_documents(uow, who, query)
        for d in page.items:
            pages, chunks, ready = (
                pages + (d.pages or 0),
                chunks + d.chunks,
                ready + (d.status == "ready"),
            )
        if page.next_cursor is None:
            return {"pages": pages, "chunks": chunks, "ready": ready}
        cursor = page.next_cursor


async def _ask(
    runtime: Runtime, who: Principal, domain_id: uuid.UUID, questions: list[LabelledQuestion]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for language in ("en", "zh"):
        asked = [q for q in questions if q.language == language]
        latencies, hits, reciprocal = [], 0, 0.0
        for q in asked:
            started = time.perf_counter()
            async with unit_of_work(runtime, write=False) as uow:
                found = await retrieval.retrieve(
                    uow, who, retrieval.RetrievalQuery(q.text, domain_id=domain_id, top_k=5)
                )
            latencies.append((time.perf_counter() - started) * 1000)
            ranks = [i for i, c in enumerate(found, 1) if _answers(q, c)]
            hits += bool(ranks)
            reciprocal += 1 / ranks[0] if ranks else 0.0
        out[language] = {
            "questions": len(asked), "p50_ms": _pct(latencies, 50), "p99_ms": _pct(latencies, 99),
            "recall_at_5": hits / max(len(asked), 1), "mrr": reciprocal / max(len(asked), 1),
        }  # fmt: skip
    return out


def _answers(question: LabelledQuestion, found: retrieval.RetrievedChunk) -> bool:
    right_section = found.heading_path[-1:] == [question.heading]
    return found.document_name == question.document_name and right_section


def _pct(values: list[float], pct: int) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))], 2)


async def run(
    database_url: str, documents_n: int, pdf_share: float, workers: int, seed: int
) -> dict[str, Any]:
    # A throwaway key: cursors live only for this run (and no key file is written).
    settings = Settings(
        database_url=database_url, secret_key="bench-knowledge", ingest_retry_seconds=0
    )
    runtime = Runtime.build(settings)
    try:
        who, domain_id = await _setup(runtime)
        docs, questions = corpus(documents_n, pdf_share, seed)
        await _upload(runtime, who, domain_id, docs)
        seconds = await _ingest(runtime, workers)
        totals = await _totals(runtime, who, domain_id)
        retrieval_figures = await _ask(runtime, who, domain_id, questions)
    finally:
        await runtime.engine.dispose()
    return {
        "backend": runtime.engine.dialect.name, "documents": documents_n, "workers": workers,
        "ingest_seconds": round(seconds, 2), **totals,
        "pages_per_s": round(totals["pages"] / seconds, 1),
        "chunks_per_s": round(totals["chunks"] / seconds, 1),
        "retrieval": retrieval_figures,
    }  # fmt: skip
