"""Ingestion on real SQLite and PostgreSQL: every format, and failures with reasons."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chatkeep.core.knowledge import documents
from tests.factories import Key, World
from tests.knowledge import files

pytestmark = pytest.mark.anyio


async def _setup(world: World) -> tuple[Key, uuid.UUID]:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    return key, domain.id


@pytest.mark.parametrize(
    ("name", "data", "pages"),
    [
        ("guide.md", files.MARKDOWN, None),
        ("guide.txt", b"Parks open at six.\n\nMuseums close on Mondays.", None),
        (
            "guide.html",
            b"<html><body><h1>Guide</h1><p>Parks open at six.</p>"
            b"<script>var x = 'no';</script><ul><li>Museums close</li></ul></body></html>",
            None,
        ),
        ("guide.csv", b"place,opens\npark,six\nmuseum,nine\n", None),
        ("guide.pdf", files.pdf("Parks open at six.", "Museums close on Mondays."), 2),
        ("guide.docx", files.docx_file("Guide", "Parks open at six.", table=[["a", "b"]]), None),
    ],
)
async def test_each_format_becomes_ready_with_chunks(
    world: World, name: str, data: bytes, pages: int | None
) -> None:
    key, domain_id = await _setup(world)
    added = await world.document(key, domain_id, name, data)
    assert added.created and added.document.status == "queued"

    assert await world.ingest() == 1

    doc = await world.run(lambda uow: _get(uow, world, key, added.document.id), write=False)
    assert (doc.status, doc.error, doc.pages) == ("ready", None, pages)
    assert doc.chunks >= 1 and doc.parse_ms is not None and doc.finished_at is not None
    found = await world.retrieve(key, "parks")
    assert found and found[0].document_id == doc.id
    if pages:
        assert found[0].page_start == 1


async def _get(uow: Any, world: World, key: Key, document_id: uuid.UUID) -> Any:
    principal = await world.principal(key)
    return await documents.get_document(uow, principal, document_id)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("secret.pdf", files.encrypted_pdf(), "encrypted PDF"),
        ("scan.pdf", files.image_only_pdf(), "no text layer"),
        ("broken.pdf", b"%PDF-1.7\nthis is not really a pdf", "not a readable PDF"),
        ("fake.docx", b"just text pretending", "not a DOCX"),
        ("bomb.docx", files.zip_bomb_docx(), "zip bomb"),
        ("empty.md", b"\n\n   \n", "no text"),
    ],
)
async def test_bad_files_fail_with_a_reason_and_the_worker_goes_on(
    world: World, name: str, data: bytes, reason: str
) -> None:
    key, domain_id = await _setup(world)
    bad = await world.document(key, domain_id, name, data)
    good = await world.document(key, domain_id, "ok.txt", b"Parks open at six.")

    assert await world.ingest() == 2

    bad_doc = await world.run(lambda uow: _get(uow, world, key, bad.document.id), write=False)
    good_doc = await world.run(lambda uow: _get(uow, world, key, good.document.id), write=False)
    assert bad_doc.status == "failed" and reason in bad_doc.error
    assert good_doc.status == "ready"
