"""The conversation view in a real browser: safely rendered Markdown, Chinese, the
keyboard, phone width, dark mode, accessibility checks, and asking a question."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from chatkeep.core import messages, sessions
from chatkeep.core.types import NewMessage, NewSession
from tests.factories import World
from tests.web.a11y import accessibility_problems, axe_violations, tab_order
from tests.web.conftest import WebServer, screenshot, sign_in

ANSWER = (
    "Use **cursors**: pass `next_cursor` back.\n\n| step | call |\n|---|---|\n"
    "| 1 | `GET /v1/sessions` |\n\n<script>window.pwned = 1</script> 分页使用游标。"
)


def _conversation(server: WebServer, tenant: str) -> str:
    async def seed(world: World) -> str:
        principal = await world.principal(await world.key(tenant, "alice"))
        async with world.uow() as uow:
            session = await sessions.create_session(
                uow, principal, NewSession(title="Pagination 分页")
            )
            for role, content in (
                ("user", "How do I page through sessions?"),
                ("assistant", ANSWER),
            ):
                await messages.append_message(
                    uow, principal, session.uuid, NewMessage(role, content)
                )
        return str(session.uuid)

    return str(server.world_call(seed))


def test_messages_render_markdown_safely_with_chinese(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    session_id = _conversation(web_server, tenant)
    sign_in(page, web_server, tenant, "alice")

    page.locator(".session-open", has_text="Pagination").click()

    answer = page.locator(".message.assistant .content")
    expect(answer.locator("strong")).to_have_text("cursors")
    expect(answer.locator("table td").nth(1)).to_have_text("GET /v1/sessions")
    expect(answer).to_contain_text("<script>window.pwned = 1</script>")  # shown, not run
    expect(answer).to_contain_text("分页使用游标。")
    assert page.evaluate("() => window.pwned") is None
    assert page.url.endswith(f"#s={session_id}")
    screenshot(page, "conversation")

    page.reload()  # the open session survives a reload
    page.wait_for_selector("body[data-ready='true']")
    expect(page.locator("#chat-title")).to_have_text("Pagination 分页")


def test_enter_sends_and_shift_enter_adds_a_line(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    sign_in(page, web_server, tenant, "alice")
    page.get_by_role("button", name="New chat").click()
    box = page.get_by_label("Your question")

    box.type("first line")
    box.press("Shift+Enter")
    box.type("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")

    expect(page.locator(".message.user .content")).to_contain_text("first line")
    expect(box).to_have_value("")


def test_labelled_controls_and_a_sensible_focus_order(page: Page, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    _conversation(web_server, tenant)
    sign_in(page, web_server, tenant, "alice")
    page.locator(".session-open", has_text="Pagination").click()
    expect(page.get_by_label("Your question")).to_be_focused()  # opening a chat focuses it

    assert accessibility_problems(page) == []
    assert axe_violations(page) == []
    order = tab_order(page, 13)
    assert order == [
        "docs-toggle", "signout", "new-chat", "search", "domain-filter", "show-archived",
        order[6], "rename", "pin", "archive", "delete", "chat-domain", "Copy",
    ]  # fmt: skip
    assert order[6].startswith("Pagination 分页")  # the session row, between list and chat
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()


def test_phone_width_and_dark_mode(browser: Browser, web_server: WebServer) -> None:
    tenant = web_server.new_tenant("alice")
    _conversation(web_server, tenant)
    context = browser.new_context(
        viewport={"width": 390, "height": 800}, color_scheme="dark", is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        sign_in(page, web_server, tenant, "alice")
        sidebar = page.locator("#sidebar")
        expect(page.get_by_role("button", name="Show sessions")).to_be_visible()
        assert not sidebar.is_visible() or sidebar.bounding_box()["x"] < 0  # type: ignore[index]

        page.get_by_role("button", name="Show sessions").click()
        expect(page.locator("#search")).to_be_focused()
        page.locator(".session-open", has_text="Pagination").click()
        expect(page.locator(".message.assistant strong")).to_have_text("cursors")
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(21, 24, 28)"  # the dark palette
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390  # nothing overflows sideways
        assert axe_violations(page) == []  # contrast in the dark palette included
        screenshot(page, "phone-dark")
    finally:
        context.close()


def test_the_first_load_is_light(page: Page, web_server: WebServer) -> None:
    sizes: list[int] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.ok else None)
    page.goto(web_server.base_url)
    expect(page.locator("#signin")).to_be_visible()
    assert 0 < sum(sizes) < 200_000, sizes
    assert axe_violations(page) == []  # the sign-in view


def test_the_axe_check_sees_a_violation(page: Page, web_server: WebServer) -> None:
    page.goto(web_server.base_url)
    expect(page.locator("#signin")).to_be_visible()
    page.evaluate("() => document.body.append(Object.assign(new Image(), {src: '/x.png'}))")
    assert any(line.startswith("image-alt (critical)") for line in axe_violations(page))
