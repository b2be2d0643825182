"""The UI in a real browser against the real server: sign-in, the sidebar, session actions,
isolation between users, and CSRF."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from chatkeep.core.types import NewSession
from tests.factories import World
from tests.web.conftest import WebServer, screenshot, sign_in


def _seed_sessions(server: WebServer, tenant: str, user: str, titles: list[str]) -> None:
    async def seed(world: World) -> None:
        key = await world.key(tenant, user)
        principal = await world.principal(key)
        async with world.uow() as uow:
            from chatkeep.core import sessions

            for title in titles:
                await sessions.create_session(uow, principal, NewSession(title=title))

    server.world_call(seed)


def test_a_login_link_signs_in_and_is_spent(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    url = web_server.login_url(tenant, "alice")

    page.goto(url)

    expect(page.locator("#whoami")).to_have_text(f"alice · {tenant}")
    assert "#login=" not in page.url  # the token left the address bar
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["chatkeep_session"]["httpOnly"] is True
    assert cookies["chatkeep_session"]["sameSite"] == "Strict"
    storage = page.evaluate("() => JSON.stringify({...localStorage, ...sessionStorage})")
    assert "ck_" not in storage and "cks_" not in storage

    second = page.context.new_page()
    second.context.clear_cookies()
    second.goto(url)  # the same link again
    expect(second.locator("#signin-message")).to_contain_text("invalid or has already been used")


def test_create_rename_pin_search_and_delete_a_chat(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    _seed_sessions(web_server, tenant, "alice", ["Quarterly budget", "Kafka tuning", "你好 世界"])
    sign_in(page, web_server, tenant, "alice")
    rows = page.locator("#session-list .session-title")
    expect(rows).to_have_count(3)

    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#chat-title")).to_have_text("New chat")
    expect(rows).to_have_count(4)

    page.get_by_role("button", name="Rename").click()
    page.get_by_label("New title").fill("Release checklist")
    page.get_by_label("New title").press("Enter")
    expect(page.locator("#chat-title")).to_have_text("Release checklist")
    expect(rows.filter(has_text="Release checklist")).to_have_count(1)

    page.locator(".session-open", has_text="Kafka tuning").click()
    expect(page.locator("#chat-title")).to_have_text("Kafka tuning")
    page.get_by_role("button", name="Pin", exact=True).click()
    expect(page.get_by_role("button", name="Unpin")).to_be_visible()
    expect(rows.first).to_have_text("Kafka tuning")  # pinned first
    screenshot(page, "sidebar")

    page.keyboard.press("Control+k")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("budget")
    expect(rows).to_have_text(["Quarterly budget"])
    page.locator("#search").fill("")
    expect(rows).to_have_count(4)

    page.locator(".session-open", has_text="Release checklist").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(rows.filter(has_text="Release checklist")).to_have_count(0)
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect(rows).to_have_count(3)
    expect(page.locator(".session-title", has_text="你好 世界")).to_be_visible()


def test_a_refused_change_is_undone_and_explained(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    _seed_sessions(web_server, tenant, "alice", ["Keep me"])
    sign_in(page, web_server, tenant, "alice")
    page.locator(".session-open", has_text="Keep me").click()

    page.get_by_role("button", name="Rename").click()
    page.get_by_label("New title").fill("x" * 600)  # past the 512-character limit
    page.evaluate("() => document.querySelector('#rename-input').removeAttribute('maxlength')")
    page.get_by_label("New title").fill("x" * 600)
    page.get_by_label("New title").press("Enter")

    expect(page.locator("#toast")).to_contain_text("refused")
    expect(page.locator("#session-list .session-title")).to_have_text(["Keep me"])
    expect(page.locator("#chat-title")).to_have_text("Keep me")


def test_a_second_user_never_sees_the_first_users_sessions(
    page: Page, web_server: WebServer
) -> None:
    tenant = web_server.new_tenant("alice", "bob")
    _seed_sessions(web_server, tenant, "alice", ["Alice only"])
    _seed_sessions(web_server, tenant, "bob", ["Bob's chat"])

    sign_in(page, web_server, tenant, "bob")

    expect(page.locator("#session-list .session-title")).to_have_text(["Bob's chat"])
    page.keyboard.press("Control+k")
    page.keyboard.type("Alice")
    expect(page.locator("#session-status")).to_have_text("No sessions")


def test_a_cross_site_post_is_refused(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    sign_in(page, web_server, tenant, "alice")
    port = int(web_server.base_url.rsplit(":", 1)[1])
    evil = f"http://127.0.0.1:{port + 1 if port < 8999 else port - 1}/evil.html"
    target = f"{web_server.base_url}/v1/sessions"
    # Another origin on the same site (another port): SameSite does not help here, the
    # Origin / Sec-Fetch-Site checks must. A plain form post, as a real attacker page would.
    page.route(evil, lambda route: route.fulfill(content_type="text/html", body=(
        f'<form id="f" method="post" action="{target}" enctype="text/plain">'
        '<input name=\'{"title":"pwned","x":"\' value=\'"}\'></form>'
        "<script>document.getElementById('f').submit()</script>"
    )))  # fmt: skip
    with page.expect_response(target) as posted:
        page.goto(evil)

    assert posted.value.status == 403
    page.goto(web_server.base_url)
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#session-status")).to_have_text("No sessions")
    assert re.search("pwned", page.content()) is None


def test_a_chat_moves_to_the_domain_it_answers_from(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")

    async def guides(world: World) -> None:
        await world.domain(tenant, "Guides")

    web_server.world_call(guides)
    sign_in(page, web_server, tenant, "alice")
    page.get_by_role("button", name="New chat").click()
    chosen = page.get_by_label("Answers from")
    expect(chosen.locator("option:checked")).to_have_text("Default")  # where a new chat goes

    chosen.select_option(label="Guides")
    row = page.locator("#session-list .session-item", has_text="New chat")
    expect(row).to_contain_text("Guides")  # the server moved it: the row shows its domain
    page.reload()
    page.locator(".session-open", has_text="New chat").click()
    expect(page.get_by_label("Answers from").locator("option:checked")).to_have_text("Guides")
