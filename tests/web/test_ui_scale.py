"""A user with 10,000 sessions: the sidebar shows the first page at once and endless
scroll (IntersectionObserver over the cursor API) loads more as it scrolls."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import insert

from chatkeep.core.models import ChatSession
from chatkeep.core.repository.counters import rebuild_counters
from tests.factories import World
from tests.web.conftest import WebServer, sign_in

MANY = 10_000


def test_a_10000_session_sidebar_scrolls_and_loads_more(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("heavy")

    async def seed(world: World) -> None:
        # One session through the service, the rest as one bulk insert of the same row
        # shape (a second apart), then the list counters rebuilt: seconds, not a minute.
        first = await world.session(await world.key(tenant, "heavy"), title="Chat 00000")
        base = first.created_at
        async with world.uow() as uow:
            owner = await uow.db.get(ChatSession, first.id)
            assert owner is not None
            await uow.db.execute(insert(ChatSession), [
                {"uuid": uuid.uuid4(), "tenant_id": owner.tenant_id, "user_pk": owner.user_pk,
                 "domain_id": owner.domain_id, "title": f"Chat {index:05d}",
                 "system_context": "", "is_pinned": False, "archived": False,
                 "created_at": base + timedelta(seconds=index),
                 "updated_at": base + timedelta(seconds=index),
                 "recent_at": base + timedelta(seconds=index), "message_count": 0,
                 "metadata": {}}
                for index in range(1, MANY)
            ])  # fmt: skip
            await rebuild_counters(uow.db, owner.tenant_id)

    started = time.monotonic()
    web_server.world_call(seed)
    print(f"seeded {MANY} sessions in {time.monotonic() - started:.1f}s")
    sign_in(page, web_server, tenant, "heavy")
    rows = page.locator("#session-list .session-item")
    expect(page.locator("#session-status")).to_have_text("50 loaded")
    assert rows.count() == 50
    expect(rows.first).to_contain_text(f"Chat {MANY - 1:05d}")  # newest first

    for pages_loaded in (2, 3, 4):
        page.locator("#session-sentinel").scroll_into_view_if_needed()
        expect(page.locator("#session-status")).to_have_text(f"{50 * pages_loaded} loaded")

    titles = rows.locator(".session-title").all_text_contents()
    assert titles == [f"Chat {MANY - 1 - i:05d}" for i in range(200)]  # no gaps, no repeats
