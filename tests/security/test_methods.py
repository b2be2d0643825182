"""Every path answers a method it does not support with 405, an ``Allow`` header naming
exactly the methods it does, and a body in its dialect's format (walked from the OpenAPI
document, AISquare's unslashed twins included)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


async def test_unsupported_methods_are_405_with_allow_in_the_dialects_format(
    client: httpx.AsyncClient,
) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    checked = 0
    for template, operations in paths.items():
        allowed = {m.upper() for m in operations}
        path = template.replace("{session_id}", "1").replace("{domain_id}", "1")
        variants = [path, path.rstrip("/")] if path.startswith("/api/v1/qllm/") else [path]
        for concrete in variants:
            for method in sorted(METHODS - allowed):
                response = await client.request(method, concrete)
                where = f"{method} {concrete}"
                assert response.status_code == 405, where
                listed = {m.strip() for m in response.headers["allow"].split(",")}
                assert listed - {"HEAD"} == allowed, (where, listed)
                body = response.json()
                if concrete.startswith("/api/v1/qllm"):
                    assert body == {"detail": f'Method "{method}" not allowed.'}, where
                elif "/aidoc/" in concrete:
                    assert {"requestId", "code", "message"} <= set(body), where
                else:
                    assert response.headers["content-type"] == "application/problem+json", where
                checked += 1
    assert checked > 40
