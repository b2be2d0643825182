from __future__ import annotations

import httpx
import pytest

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
