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
