"""Loading a small planned set for real; the dialects then see exactly the planned data."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from chatkeep.bench.dataset import NAME_QUERY, plan_dataset, plan_sessions
from chatkeep.bench.load import load_dataset

pytestmark = pytest.mark.anyio

AIDOC_LIST = "/api/v2/aidoc/document/chat/session/list"


async def test_loaded_set_is_what_the_plan_says(app: FastAPI, client: httpx.AsyncClient) -> None:
    plan = plan_dataset(300, seed=3)
    loaded = await load_dataset(app.state.chatkeep, plan, progress=False)
    assert loaded.sessions == 300
    assert loaded.heavy_sessions == 150
    heavy = next(i for i, u in enumerate(plan.users) if u.user_id == "heavy-0")
    planned = list(plan_sessions(plan, heavy))
    active = [s for s in planned if not s.archived]
    hits = [s for s in active if NAME_QUERY in s.title.lower()]
    assert loaded.messages == sum(s.messages for p in range(len(plan.users))
                                  for s in plan_sessions(plan, p))  # fmt: skip

    headers = {"Authorization": f"Bearer {loaded.keys['heavy-0']}"}
    page = await client.post(AIDOC_LIST, json={"pageSize": 10}, headers=headers)
    assert page.status_code == 200, page.text
    # The totals come from the counters the loader rebuilt after its bulk insert.
    assert page.json()["data"]["total"] == len(active)
    named = await client.post(AIDOC_LIST, json={"name": NAME_QUERY}, headers=headers)
    assert named.json()["data"]["total"] == len(hits) > 0

    typical = {"Authorization": f"Bearer {loaded.keys['typical']}"}
    in_domain = await client.get(
        "/api/v1/qllm/chat-sessions/", params={"domain_id": loaded.typical_domain},
        headers=typical,
    )  # fmt: skip
    assert in_domain.status_code == 200
    assert len(in_domain.json()) > 0
    assert {s["domain_id"] for s in in_domain.json()} == {loaded.typical_domain}
