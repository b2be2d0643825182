"""Bad input the fuzzer found, pinned: refused in the dialect's own format, nothing stored."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import World

pytestmark = pytest.mark.anyio

HUGE_INT_METADATA = b'{"metadata": {"n": 18446744073709551616}}'  # 2**64: past int64


async def test_metadata_integer_past_64_bits_is_refused_not_a_500(
    world: World, client: httpx.AsyncClient
) -> None:
    key = await world.key(await world.tenant())
    session = await world.session(key, title="kept")
    headers = key.headers | {"content-type": "application/json"}
    create = await client.post("/v1/sessions", content=HUGE_INT_METADATA, headers=headers)
    patch = await client.patch(
        f"/v1/sessions/{session.uuid}", content=HUGE_INT_METADATA, headers=headers
    )
    message = b'{"role": "user", "content": "hi", "metadata": {"n": -18446744073709551616}}'
    append = await client.post(
        f"/v1/sessions/{session.uuid}/messages", content=message, headers=headers
    )
    aisquare = await client.post(
        f"/api/v1/qllm/chat-sessions/{session.id}/messages/", content=message, headers=headers
    )
    for response in (create, patch, append):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == "metadata"
    assert aisquare.status_code == 400 and "metadata" in aisquare.json(), aisquare.text
    listed = (await client.get("/v1/sessions", headers=key.headers)).json()["data"]
    assert [(s["title"], s["message_count"], s["metadata"]) for s in listed] == [("kept", 0, {})]


NUL = "\\u0000"
LONE_SURROGATE = "\\ud800"


@pytest.mark.parametrize("bad", [NUL, LONE_SURROGATE])
async def test_text_no_store_can_hold_is_refused_in_every_dialect(
    world: World, client: httpx.AsyncClient, bad: str
) -> None:
    """PostgreSQL refuses NUL and UTF-8 refuses lone surrogates: both used to be 500s."""
    key = await world.key(await world.tenant())
    session = await world.session(key, title="kept")
    h = key.headers | {"content-type": "application/json"}
    message = f'{{"role": "user", "content": "{bad}"}}'
    native = [
        ("POST", "/v1/sessions", f'{{"title": "a{bad}"}}'),
        ("POST", "/v1/sessions", f'{{"system_context": "a{bad}"}}'),
        ("PATCH", f"/v1/sessions/{session.uuid}", f'{{"title": "a{bad}"}}'),
        ("POST", f"/v1/sessions/{session.uuid}/messages", message),
        ("POST", "/v1/domains", f'{{"name": "d{bad}"}}'),
        ("POST", f"/v1/sessions/{session.uuid}/answers", f'{{"question": "q{bad}"}}'),
    ]
    for method, path, body in native:
        response = await client.request(method, path, content=body.encode(), headers=h)
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    q = await client.get("/v1/sessions", params={"q": "a\x00"}, headers=key.headers)
    assert q.status_code == 422 if bad == NUL else True, q.text
    aisquare = await client.post(
        "/api/v1/qllm/chat-sessions/", content=f'{{"title": "a{bad}"}}'.encode(), headers=h
    )
    assert aisquare.status_code == 400 and list(aisquare.json()) == ["title"], aisquare.text
    stream = await client.post(
        f"/api/v1/qllm/chat-stream/{session.id}/", content=f'{{"prompt": "q{bad}"}}'.encode(),
        headers=h,
    )  # fmt: skip
    assert stream.status_code == 400 and list(stream.json()) == ["prompt"], stream.text
    aidoc = await client.post(
        "/api/v2/aidoc/document/chat/session/list",
        content=f'{{"name": "a{bad}"}}'.encode(),
        headers=h,
    )
    assert aidoc.status_code == 400 and aidoc.json()["code"] == "InvalidParameter.Name", aidoc.text
    listed = (await client.get("/v1/sessions", headers=key.headers)).json()["data"]
    assert [(s["title"], s["message_count"]) for s in listed] == [("kept", 0)]
