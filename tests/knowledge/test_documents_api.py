"""The native document API over the ASGI app, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from chatkeep.settings import Settings
from tests.factories import Key, World
from tests.knowledge import files
from tests.knowledge.web_server import web_server

pytestmark = pytest.mark.anyio
MAX_BYTES = 4096


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"documents_max_bytes": MAX_BYTES})


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with web_server() as base:
        yield base


async def _upload(
    client: httpx.AsyncClient, key: Key, domain_id: object, name: str, data: bytes
) -> httpx.Response:
    return await client.post(
        f"/v1/domains/{domain_id}/documents", headers=key.headers,
        files={"file": (name, data, "application/octet-stream")},
    )  # fmt: skip


async def _setup(world: World) -> tuple[Key, str]:
    tenant = await world.tenant()
    key = await world.key(tenant)
    return key, str((await world.domain(tenant, "Guides")).id)


async def test_upload_ingest_read_retrieve_and_delete(
    client: httpx.AsyncClient, world: World
) -> None:
    key, domain_id = await _setup(world)
    created = await _upload(client, key, domain_id, "guide.md", files.MARKDOWN)
    assert created.status_code == 201, created.text
    doc = created.json()
    assert (doc["status"], doc["content_type"], doc["size_bytes"]) == (
        "queued", "text/markdown", len(files.MARKDOWN),
    )  # fmt: skip
    assert (
        isinstance(doc["number"], int)
        and created.headers["location"] == f"/v1/documents/{doc['id']}"
    )

    await world.ingest()

    ready = (await client.get(f"/v1/documents/{doc['id']}", headers=key.headers)).json()
    assert ready["status"] == "ready" and ready["chunks"] >= 3
    content = await client.get(f"/v1/documents/{doc['id']}/content", headers=key.headers)
    assert (
        content.content == files.MARKDOWN and content.headers["x-content-type-options"] == "nosniff"
    )
    found = await client.post(
        "/v1/retrieve", headers=key.headers, json={"query": "公园", "top_k": 2}
    )
    assert found.status_code == 200, found.text
    top = found.json()["data"][0]
    assert top["document_id"] == doc["id"] and "<mark>公园</mark>" in top["snippet"]
    assert top["heading_path"] == ["Visitor guide", "公园"]

    assert (
        await client.delete(f"/v1/documents/{doc['id']}", headers=key.headers)
    ).status_code == 204
    assert (await client.get(f"/v1/documents/{doc['id']}", headers=key.headers)).status_code == 404
    again = await client.post("/v1/retrieve", headers=key.headers, json={"query": "公园"})
    assert again.json() == {"data": []}


async def test_the_same_bytes_return_the_existing_document(
    client: httpx.AsyncClient, world: World
) -> None:
    key, domain_id = await _setup(world)
    first = await _upload(client, key, domain_id, "a.txt", b"same words")
    second = await _upload(client, key, domain_id, "b.txt", b"same words")

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "field"),
    [
        ({"files": {"file": ("big.txt", b"x" * (MAX_BYTES + 1), "text/plain")}}, 413, None),
        ({"files": {"file": ("a.png", b"\x89PNG\r\n\x1a\n\0\0\0", "image/png")}}, 415, None),
        ({"files": {"other": ("a.txt", b"hello", "text/plain")}}, 422, "file"),
        ({"files": {"file": ("a.txt", b"", "text/plain")}}, 422, "file"),
        ({"json": {"link": "http://example.com"}}, 422, "url"),
        ({"json": {"url": "ftp://example.com/a.txt"}}, 422, "url"),
        ({"json": {"url": "http://127.0.0.1:9/a.txt"}}, 422, "url"),
        ({"json": {"url": "http://[::1]/a.txt"}}, 422, "url"),
        ({"json": {"url": "http://169.254.169.254/latest/"}}, 422, "url"),
        ({"content": b"raw bytes", "headers": {"Content-Type": "text/plain"}}, 415, None),
    ],
)
async def test_bad_uploads_are_refused_as_problems_and_store_nothing(
    client: httpx.AsyncClient, world: World, request_kwargs: dict[str, object], status: int,
    field: str | None,
) -> None:  # fmt: skip
    key, domain_id = await _setup(world)
    headers = {**key.headers, **request_kwargs.pop("headers", {})}  # type: ignore[dict-item]
    answer = await client.post(
        f"/v1/domains/{domain_id}/documents",
        headers=headers,
        **request_kwargs,  # type: ignore[arg-type]
    )

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    if field:
        assert answer.json()["errors"][0]["field"] == field
    listed = await client.get(f"/v1/domains/{domain_id}/documents", headers=key.headers)
    assert listed.json()["data"] == []


async def test_a_url_is_fetched_through_redirects_when_private_addresses_are_allowed(
    client: httpx.AsyncClient, world: World, remote: str, settings: Settings
) -> None:
    key, domain_id = await _setup(world)
    world.state.settings.__dict__["fetch_allow_private"] = True  # this test's own app

    fetched = await client.post(
        f"/v1/domains/{domain_id}/documents", headers=key.headers, json={"url": f"{remote}/hop"}
    )
    assert fetched.status_code == 201, fetched.text
    assert (fetched.json()["name"], fetched.json()["content_type"]) == ("guide.md", "text/markdown")
    assert fetched.json()["source_url"] == f"{remote}/hop"

    for path, why in [
        ("/to-metadata", "may not be fetched"),
        ("/to-file", "only http and https"),
        ("/missing", "answered 404"),
    ]:
        refused = await client.post(
            f"/v1/domains/{domain_id}/documents", headers=key.headers, json={"url": remote + path}
        )
        assert refused.status_code == 422 and why in refused.json()["errors"][0]["message"], path
    too_big = await client.post(
        f"/v1/domains/{domain_id}/documents", headers=key.headers, json={"url": f"{remote}/big"}
    )
    assert too_big.status_code == 413


async def test_the_guard_refuses_the_local_server_by_default(
    client: httpx.AsyncClient, world: World, remote: str
) -> None:
    key, domain_id = await _setup(world)

    refused = await client.post(
        f"/v1/domains/{domain_id}/documents",
        headers=key.headers,
        json={"url": f"{remote}/guide.md"},
    )

    assert refused.status_code == 422
    assert "may not be fetched" in refused.json()["errors"][0]["message"]


async def test_another_tenants_documents_and_domains_are_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    me, _ = await _setup(world)
    them, their_domain = await _setup(world)
    theirs = (await _upload(client, them, their_domain, "t.txt", b"their words")).json()

    for method, url in [
        ("GET", f"/v1/documents/{theirs['id']}"),
        ("GET", f"/v1/documents/{theirs['id']}/content"),
        ("DELETE", f"/v1/documents/{theirs['id']}"),
        ("GET", f"/v1/domains/{their_domain}/documents"),
    ]:
        answer = await client.request(method, url, headers=me.headers)
        assert answer.status_code == 404, (method, url)
    assert (await _upload(client, me, their_domain, "x.txt", b"mine")).status_code == 404
    retrieved = await client.post(
        "/v1/retrieve", headers=me.headers, json={"query": "words", "document_ids": [theirs["id"]]}
    )
    assert retrieved.status_code == 404
    assert (
        await client.get(f"/v1/documents/{theirs['id']}", headers=them.headers)
    ).status_code == 200


async def test_document_scopes_are_required(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    domain = await world.domain(tenant, "Guides")
    reader = await world.key(tenant, scopes=("documents:read",))
    nobody = await world.key(tenant, "bob", scopes=("sessions:read",))

    assert (await _upload(client, reader, domain.id, "a.txt", b"hello")).status_code == 403
    listed = await client.get(f"/v1/domains/{domain.id}/documents", headers=reader.headers)
    assert listed.status_code == 200
    refused = await client.post("/v1/retrieve", headers=nobody.headers, json={"query": "hello"})
    assert refused.status_code == 403


async def test_lists_page_by_cursor_and_filter_by_status(
    client: httpx.AsyncClient, world: World
) -> None:
    key, domain_id = await _setup(world)
    for n in range(3):
        await _upload(client, key, domain_id, f"{n}.txt", f"document number {n}".encode())
    await _upload(client, key, domain_id, "bad.pdf", b"%PDF-1.4 broken")
    await world.ingest()
    url = f"/v1/domains/{domain_id}/documents"

    first = (await client.get(url, headers=key.headers, params={"limit": 2})).json()
    rest = (
        await client.get(
            url, headers=key.headers, params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [d["name"] for d in first["data"] + rest["data"]] == [
        "0.txt",
        "1.txt",
        "2.txt",
        "bad.pdf",
    ]
    assert first["has_more"] and not rest["has_more"]
    failed = (await client.get(url, headers=key.headers, params={"status": "failed"})).json()
    assert [d["name"] for d in failed["data"]] == ["bad.pdf"]
    assert "not a readable PDF" in failed["data"][0]["error"]
    bad = await client.get(url, headers=key.headers, params={"status": "done"})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "body",
    [{"query": ""}, {"query": "x", "top_k": 0}, {"query": "x", "top_k": "5"}, {"q": "x"},
     {"query": "x", "document_ids": []}, {"query": "x", "domain_id": "nope"}],
)  # fmt: skip
async def test_bad_retrieval_requests_are_problems(
    client: httpx.AsyncClient, world: World, body: dict[str, object]
) -> None:
    key, _ = await _setup(world)
    answer = await client.post("/v1/retrieve", headers=key.headers, json=body)
    assert (
        answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
    )
