"""``chatkeep bench-knowledge``: the click command (the harness is imported when run)."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import click
import orjson


@click.command("bench-knowledge")
@click.option("--database-url", default=None, help="Default: a new SQLite file.")
@click.option("--documents", "documents_n", default=200, show_default=True, type=click.IntRange(1))
@click.option("--pdf-share", default=0.25, show_default=True, type=click.FloatRange(0, 1))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 16))
@click.option("--seed", default=1, show_default=True, type=int)
def bench_knowledge(
    database_url: str | None, documents_n: int, pdf_share: float, workers: int, seed: int
) -> None:
    """Ingestion pages/s and chunks/s; retrieval p50/p99, recall@5 and MRR (en, zh)."""
    url = database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench-knowledge.db'}"
    from chatkeep.bench.knowledge import run  # the harness only when run
    from chatkeep.db.migrate import upgrade_to_head
    from chatkeep.settings import Settings

    upgrade_to_head(Settings(database_url=url))  # before the loop: Alembic runs its own

    result = asyncio.run(run(url, documents_n, pdf_share, workers, seed))
    click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
