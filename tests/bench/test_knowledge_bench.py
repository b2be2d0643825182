"""The knowledge benchmark's pieces, run for real at a tiny size on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chatkeep.bench.knowledge import run
from chatkeep.bench.knowledge_corpus import corpus
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.settings import Settings


def test_the_corpus_is_deterministic_and_labelled() -> None:
    docs, questions = corpus(6, 0.3, seed=7)
    again, _ = corpus(6, 0.3, seed=7)
    assert [d.name for d in docs] == [d.name for d in again]
    assert {q.language for q in questions} == {"en", "zh"}
    assert {d.kind for d in docs} == {"markdown", "pdf"}


def test_a_tiny_run_reports_ingestion_and_retrieval_figures(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    upgrade_to_head(Settings(database_url=url))  # Alembic runs its own event loop: not inside one

    result = asyncio.run(run(url, documents_n=8, pdf_share=0.25, workers=2, seed=3))

    assert result["ready"] == 8 and result["chunks"] > 8
    for language in ("en", "zh"):
        figures = result["retrieval"][language]
        assert figures["questions"] > 0 and figures["recall_at_5"] >= 0.9
        assert 0 < figures["p50_ms"] <= figures["p99_ms"]
