"""`chatkeep document add|list` and the demo's document, through the real console script."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.knowledge import files
from tests.test_cli import _bearer, api, chatkeep, db_url, workdir

__all__ = ["api", "db_url", "workdir"]  # the CLI module's fixtures, shared here


def test_document_add_stores_ingests_and_lists_files(db_url: str, workdir: Path) -> None:
    assert chatkeep(db_url, workdir, "tenant", "create", "docs-cli").returncode == 0
    made = chatkeep(db_url, workdir, "domain", "create", "--tenant", "docs-cli", "Guides", "--json")
    guide, scan = workdir / "guide.md", workdir / "scan.pdf"
    guide.write_bytes(files.MARKDOWN)
    scan.write_bytes(files.image_only_pdf())

    added = chatkeep(
        db_url, workdir, "document", "add", "--tenant", "docs-cli", "--domain", "Guides",
        "--wait", "--json", str(guide), str(scan),
    ).json()  # fmt: skip
    again = chatkeep(
        db_url, workdir, "document", "add", "--tenant", "docs-cli",
        "--domain", made.json()["id"], "--json", str(guide),
    ).json()  # fmt: skip
    listed = chatkeep(
        db_url, workdir, "document", "list", "--tenant", "docs-cli", "--domain", "Guides", "--json"
    ).json()

    first, second = added["documents"]
    assert (first["status"], first["created"], first["chunks"] > 0) == ("ready", True, True)
    assert second["status"] == "failed" and "no text layer" in second["error"]
    assert again["documents"][0]["created"] is False
    assert again["documents"][0]["id"] == first["id"]
    assert [d["name"] for d in listed["data"]] == ["guide.md", "scan.pdf"]


def test_document_add_to_an_unknown_domain_is_one_clear_line(db_url: str, workdir: Path) -> None:
    assert chatkeep(db_url, workdir, "tenant", "create", "docs-cli-2").returncode == 0
    note = workdir / "note.txt"
    note.write_text("hello")

    failed = chatkeep(
        db_url, workdir, "document", "add", "--tenant", "docs-cli-2", "--domain", "Nope", str(note)
    )

    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "domain 'Nope' not found" in failed.stderr


@pytest.mark.anyio
async def test_the_demo_document_answers_retrieval_once_ingested(
    db_url: str, workdir: Path, api: httpx.AsyncClient
) -> None:
    demo = chatkeep(db_url, workdir, "demo", "--json").json()
    worker_run = chatkeep(
        db_url,
        workdir,
        "document",
        "list",
        "--tenant",
        "demo",
        "--domain",
        "Default",
        "--json",
    ).json()
    assert [d["name"] for d in worker_run["data"]] == ["handbook.md"]
    assert "/v1/retrieve" in demo["retrieve"]
    app = api._transport.app  # type: ignore[attr-defined]
    from chatkeep.workers import ingest_pending

    await ingest_pending(app.state.chatkeep)

    for query, heading in [("rotate an API key", "API keys"), ("公园几点开门", "办公室与公园")]:
        found = await api.post("/v1/retrieve", headers=_bearer(demo["key"]), json={"query": query})
        assert found.status_code == 200, found.text
        assert found.json()["data"][0]["heading_path"][-1] == heading
