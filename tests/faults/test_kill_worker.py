"""kill -9 an ingestion worker mid-parse: the document ends ready (taken again once the
dead worker's lease ends), never stuck in ``parsing``."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.api.aidoc.live_server import fresh_database
from tests.faults.server import server_env
from tests.test_cli import CHATKEEP, PYCACHE

pytestmark = pytest.mark.faults

LEASE_SECONDS = 3
BOUND_SECONDS = 180  # generous: a loaded 2-core machine parses slowly


def _big_document() -> bytes:
    """Enough mixed English/Chinese text that cutting it into words takes seconds."""
    para = "The park opens at six. 市中心的公园早上六点开门, 周日停车免费。" * 40
    return "\n\n".join(f"## Section {n}\n\n{para}" for n in range(600)).encode()


def _status(url: str) -> tuple[str, int]:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT status, chunk_count FROM documents")).one()
            return str(row[0]), int(row[1])
    finally:
        engine.dispose()


def _wait_for(url: str, wanted: set[str], deadline: float) -> tuple[str, int]:
    while time.monotonic() < deadline:
        found = _status(url)
        if found[0] in wanted:
            return found
        time.sleep(0.1)
    raise AssertionError(f"document still {_status(url)} after the bound; wanted {wanted}")


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_ingestion_leaves_the_document_to_another(
    kind: str, tmp_path: Path, figures: list[str]
) -> None:
    with fresh_database(kind, tmp_path) as url:
        env = server_env(url, tmp_path) | {
            "CHATKEEP_INGEST_LEASE_SECONDS": str(LEASE_SECONDS),
            "PYTHONPYCACHEPREFIX": str(PYCACHE),
        }

        def cli(*args: str) -> None:
            subprocess.run(
                [*CHATKEEP, *args], env=env, check=True, capture_output=True, timeout=120
            )

        big = tmp_path / "big.md"
        big.write_bytes(_big_document())
        cli("migrate")
        cli("tenant", "create", "faults")
        cli("domain", "create", "--tenant", "faults", "Docs")
        cli("document", "add", "--tenant", "faults", "--domain", "Docs", str(big))

        deadline = time.monotonic() + BOUND_SECONDS
        first = subprocess.Popen([*CHATKEEP, "worker", "--concurrency", "1"], env=env)
        try:
            _wait_for(url, {"parsing"}, deadline)
        finally:
            first.kill()
            first.wait()
        killed_at = time.monotonic()
        assert _status(url)[0] == "parsing"  # the dead worker's claim, until its lease ends

        second = subprocess.Popen([*CHATKEEP, "worker", "--concurrency", "1"], env=env)
        try:
            status, chunks = _wait_for(url, {"ready", "failed"}, deadline)
        finally:
            second.terminate()
            second.wait(timeout=30)
        assert (status, chunks > 0) == ("ready", True)
        figures.append(
            f"{kind}: killed mid-parse, ready {time.monotonic() - killed_at:.1f} s later "
            f"(lease {LEASE_SECONDS} s), {chunks} chunks"
        )
