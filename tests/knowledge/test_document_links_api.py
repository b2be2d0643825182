"""Signed document links over HTTP: one document, no credentials, until the link expires."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from chatkeep.core.clock import utcnow
from chatkeep.core.models import Tenant
from chatkeep.runtime import Runtime
from tests.factories import World
from tests.knowledge import files

pytestmark = pytest.mark.anyio


async def _document(client: httpx.AsyncClient, world: World) -> tuple[int, str, dict[str, str]]:
    tenant = await world.tenant()
    key = await world.key(tenant)
    domain = await world.domain(tenant, "Guides")
    created = await client.post(
        f"/v1/domains/{domain.id}/documents", headers=key.headers,
        files={"file": ("guide.md", files.MARKDOWN, "text/markdown")},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    async with world.uow(write=False) as uow:
        tenant_id = await uow.db.scalar(select(Tenant.id).where(Tenant.name == tenant))
    return tenant_id, created.json()["id"], key.headers


def _links(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.chatkeep
    return runtime


async def test_a_signed_link_opens_its_document_without_credentials(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    tenant_id, document_id, _headers = await _document(client, world)
    query = _links(app).links.sign(tenant_id, uuid.UUID(document_id))
    opened = await client.get(f"/v1/document-links/{document_id}?{query}")
    assert opened.status_code == 200, opened.text
    assert opened.content == files.MARKDOWN
    assert opened.headers["content-security-policy"] == "sandbox"
    assert opened.headers["content-disposition"].startswith("attachment;")


async def test_forged_stale_or_moved_links_are_not_found(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    tenant_id, document_id, _headers = await _document(client, world)
    signer = _links(app).links
    good = signer.sign(tenant_id, uuid.UUID(document_id))
    stale = signer.sign(tenant_id, uuid.UUID(document_id), now=utcnow() - timedelta(days=2))
    other_tenant = signer.sign(tenant_id + 1, uuid.UUID(document_id))
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    for query in (stale, other_tenant, forged, "tenant=1&expires=9&signature=x"):
        got = await client.get(f"/v1/document-links/{document_id}?{query}")
        assert got.status_code == 404, (query, got.text)
    # Another document under the same signature: the link names exactly one document.
    assert (await client.get(f"/v1/document-links/{uuid.uuid4()}?{good}")).status_code == 404
    unsigned = await client.get(f"/v1/document-links/{document_id}")
    assert unsigned.status_code == 422, unsigned.text  # the native validation error


async def test_a_deleted_document_ends_its_links(
    app: FastAPI, client: httpx.AsyncClient, world: World
) -> None:
    tenant_id, document_id, headers = await _document(client, world)
    query = _links(app).links.sign(tenant_id, uuid.UUID(document_id))
    assert (await client.get(f"/v1/document-links/{document_id}?{query}")).status_code == 200
    deleted = await client.delete(f"/v1/documents/{document_id}", headers=headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/v1/document-links/{document_id}?{query}")).status_code == 404
