"""Request logs, request ids, /metrics and /readyz, through the real app on both databases."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from chatkeep.app import create_app
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.api.aidoc.wire import SESSION_LIST
from tests.factories import World

pytestmark = pytest.mark.anyio


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [orjson.loads(r.getMessage()) for r in caplog.records if r.name == "chatkeep.access"]


async def test_every_request_is_one_json_line_without_the_key(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    key = await world.key(await world.tenant())
    session = await world.session(key, title="logged")
    with caplog.at_level(logging.INFO, logger="chatkeep.access"):
        response = await client.get(f"/v1/sessions/{session.uuid}", headers=key.headers)
    assert response.status_code == 200
    [line] = access_lines(caplog)
    assert set(line) == {
        "time", "request_id", "method", "route", "status", "duration_ms", "credential", "worker"
    }  # fmt: skip
    assert line["request_id"] == response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", line["request_id"])
    assert line["method"] == "GET"
    assert line["route"] == "/v1/sessions/{session_id}"  # the template, not the id
    assert line["status"] == 200
    assert 0 < line["duration_ms"] < 10_000
    assert line["credential"] == str(key.id)
    text = caplog.text
    assert key.key not in text and key.key[3:] not in text and str(session.uuid) not in text


async def test_aidoc_requests_reuse_their_acs_request_id(
    client: httpx.AsyncClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    key = await world.key(await world.tenant())
    with caplog.at_level(logging.INFO, logger="chatkeep.access"):
        ok = await client.post(SESSION_LIST, headers=key.headers, json={})
        refused = await client.post(SESSION_LIST, json={})  # no credential
    assert (ok.status_code, refused.status_code) == (200, 401)
    lines = access_lines(caplog)
    assert [x["request_id"] for x in lines] == [
        ok.headers["x-acs-request-id"], refused.headers["x-acs-request-id"]
    ]  # fmt: skip
    assert [x["credential"] for x in lines] == [str(key.id), None]
    assert "x-request-id" not in ok.headers


async def test_refusals_before_routing_are_logged_and_counted(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="chatkeep.access"):
        too_large = await client.post("/v1/sessions", content=b"x" * (64 * 1024 + 1))
        unknown = await client.get("/no/such/path/12345")
    assert (too_large.status_code, unknown.status_code) == (413, 404)
    lines = access_lines(caplog)
    assert [(x["route"], x["status"]) for x in lines] == [
        ("<unmatched>", 413), ("<unmatched>", 404)
    ]  # fmt: skip
    assert all(x["request_id"] for x in lines)


async def test_metrics_count_requests_by_route_and_status_and_show_the_pool(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    for _ in range(3):
        assert (await client.get("/v1/sessions", headers=key.headers)).status_code == 200
    assert (await client.get("/v1/sessions")).status_code == 401
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    labels = 'method="GET",route="/v1/sessions"'
    assert f'chatkeep_http_requests_total{{{labels},status="200"}} 3.0' in text
    assert f'chatkeep_http_requests_total{{{labels},status="401"}} 1.0' in text
    assert f'chatkeep_http_request_duration_seconds_count{{{labels},status="200"}} 3.0' in text
    assert re.search(r"^chatkeep_db_pool_connections_in_use 0\.0$", text, re.M)
    assert re.search(r"^chatkeep_db_pool_size \d+\.0$", text, re.M)
    assert key.key not in text
    await client.get("/metrics")  # a scrape is counted once it has been answered
    assert (
        'chatkeep_http_requests_total{method="GET",route="/metrics",status="200"} 2.0'
        in (await client.get("/metrics")).text
    )


UNREACHABLE = {
    "postgresql": "postgresql://postgres@127.0.0.1:1/nowhere",
    "sqlite": "sqlite:///{tmp}/no/such/dir/chatkeep.db",
}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
async def test_readyz_fails_while_the_database_is_down(
    kind: str, settings: Settings, tmp_path: Path
) -> None:
    url = UNREACHABLE[kind].format(tmp=tmp_path)
    app = create_app(settings.model_copy(update={"database_url": url}))
    state: Runtime = app.state.chatkeep
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as c:
            ready = await c.get("/readyz")
            alive = await c.get("/healthz")
    finally:
        await state.engine.dispose()
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["type"] == "urn:chatkeep:problem:service-unavailable"
    assert alive.status_code == 200  # the process itself is fine
