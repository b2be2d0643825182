from __future__ import annotations

import httpx
import pytest

from tests.factories import World

pytestmark = pytest.mark.anyio


async def test_me_describes_the_callers_key(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant, "alice", scopes=("sessions:read",))
    response = await client.get("/v1/me", headers=key.headers)
    assert response.status_code == 200
    assert response.json() == {
        "tenant": {"id": response.json()["tenant"]["id"], "name": tenant},
        "user_id": "alice",
        "credential": {
            "id": str(key.id),
            "kind": "user",
            "scopes": ["sessions:read"],
            "expires_at": None,
        },
    }
