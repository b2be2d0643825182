from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest

from chatkeep.app import create_app
from chatkeep.settings import Settings

pytestmark = pytest.mark.anyio


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_openapi_documents_every_native_endpoint(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    expected = {
        "/v1/me": {"get"},
        "/v1/domains": {"get", "post"},
        "/v1/domains/{domain_id}": {"get", "patch", "delete"},
        "/v1/sessions": {"get", "post"},
        "/v1/sessions/{session_id}": {"get", "patch", "delete"},
        "/v1/sessions/{session_id}/messages": {"get", "post"},
        "/healthz": {"get"},
        "/readyz": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
    assert (await client.get("/docs")).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres@127.0.0.1:1/chatkeep",  # nothing listens there
        "postgresql://postgres@127.0.0.1:5432/chatkeep_no_such_database",
        "sqlite:///{tmp}/missing-dir/chatkeep.db",
    ],
)
async def test_database_outage_is_503_problem(settings: Settings, tmp_path: Path, url: str) -> None:
    broken = settings.model_copy(update={"database_url": url.format(tmp=tmp_path)})
    app = create_app(broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as c:
        ready = await c.get("/readyz")
        listed = await c.get("/v1/sessions", headers={"Authorization": "Bearer ck_" + "x" * 50})
    await app.state.chatkeep.engine.dispose()
    await anyio.sleep(0.05)  # let aiosqlite's failed worker thread finish inside this loop
    for response in (ready, listed):
        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "1"
        assert response.json()["type"] == "urn:chatkeep:problem:service-unavailable"
