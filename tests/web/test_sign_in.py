"""Web sign-in over the ASGI app on SQLite and PostgreSQL: link → cookie → native API,
CSRF on every cookie-authenticated write, sign-out, and what the cookie may not do."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from chatkeep.core.web_sessions import issue_login_token
from tests.factories import World, remember_secret

pytestmark = pytest.mark.anyio
SAME_ORIGIN = {"Origin": "http://chatkeep.test", "Sec-Fetch-Site": "same-origin"}


async def _login_token(world: World, tenant: str, user: str = "alice", minutes: float = 10) -> str:
    issued = await world.run(
        lambda uow: issue_login_token(uow, tenant, user, ttl=timedelta(minutes=minutes))
    )
    return remember_secret(issued.token)


async def _sign_in(
    client: httpx.AsyncClient, world: World, tenant: str, user: str = "alice"
) -> str:
    """Sign the client in; returns the CSRF token the page would hold."""
    token = await _login_token(world, tenant, user)
    response = await client.post("/web/login", json={"token": token}, headers=SAME_ORIGIN)
    assert response.status_code == 200, response.text
    remember_secret(client.cookies["chatkeep_session"])
    return str(response.json()["csrf_token"])


async def test_a_login_link_works_once_and_sets_an_httponly_strict_cookie(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    token = await _login_token(world, tenant)

    first = await client.post("/web/login", json={"token": token}, headers=SAME_ORIGIN)
    again = await client.post("/web/login", json={"token": token}, headers=SAME_ORIGIN)

    assert first.status_code == 200, first.text
    assert first.json()["user_id"] == "alice" and first.json()["tenant"] == tenant
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "ck_" not in first.text  # no API key ever reaches the browser
    assert again.status_code == 401


async def test_an_expired_or_forged_login_link_is_refused(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    expired = await _login_token(world, tenant, minutes=-1)
    forged = expired[:-4] + "AAAA"

    for token in (expired, forged, "ckl_short"):
        response = await client.post("/web/login", json={"token": token}, headers=SAME_ORIGIN)
        assert response.status_code == 401, token
        assert "chatkeep_session" not in response.headers.get("set-cookie", "")


async def test_the_cookie_is_a_native_principal_and_writes_need_the_csrf_token(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    csrf = await _sign_in(client, world, tenant)

    me = await client.get("/v1/me")
    no_token = await client.post("/v1/sessions", json={"title": "x"}, headers=SAME_ORIGIN)
    wrong = await client.post(
        "/v1/sessions", json={"title": "x"}, headers={**SAME_ORIGIN, "X-CSRF-Token": "0" * 64}
    )
    created = await client.post(
        "/v1/sessions", json={"title": "mine"}, headers={**SAME_ORIGIN, "X-CSRF-Token": csrf}
    )

    assert me.status_code == 200 and me.json()["user_id"] == "alice"
    assert me.json()["credential"]["kind"] == "user"
    assert "domains:write" not in me.json()["credential"]["scopes"]
    assert no_token.status_code == 403 and wrong.status_code == 403
    assert no_token.headers["content-type"] == "application/problem+json"
    assert created.status_code == 201, created.text
    titles = [s["title"] for s in (await client.get("/v1/sessions")).json()["data"]]
    assert titles == ["mine"]  # the refused writes stored nothing


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port or subdomain of the same site
        {"Origin": "http://evil.example"},
    ],
)
async def test_a_cross_site_write_is_refused_even_with_the_token(
    client: httpx.AsyncClient, world: World, headers: dict[str, str]
) -> None:
    tenant = await world.tenant()
    csrf = await _sign_in(client, world, tenant)

    response = await client.post(
        "/v1/sessions", json={"title": "x"}, headers={**headers, "X-CSRF-Token": csrf}
    )

    assert response.status_code == 403, response.text
    assert (await client.get("/v1/sessions")).json()["data"] == []


async def test_login_from_another_site_is_refused(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    token = await _login_token(world, tenant)

    response = await client.post(
        "/web/login", json={"token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )

    assert response.status_code == 403
    assert "chatkeep_session" not in client.cookies


async def test_sign_out_revokes_the_session_server_side(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    csrf = await _sign_in(client, world, tenant)
    copied = client.cookies["chatkeep_session"]

    out = await client.post("/web/logout", headers={**SAME_ORIGIN, "X-CSRF-Token": csrf})
    client.cookies.set("chatkeep_session", copied)  # a copy of the cookie kept somewhere

    assert out.status_code == 204
    assert (await client.get("/v1/me")).status_code == 401
    assert (await client.get("/web/session")).status_code == 401


async def test_the_cookie_is_not_a_credential_for_the_vendor_dialects(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    await _sign_in(client, world, tenant)

    aisquare = await client.get("/api/v1/qllm/chat-sessions/")

    assert aisquare.status_code == 401


async def test_a_second_users_cookie_sees_only_their_sessions(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    await world.session(alice, title="alice's secret")
    await _sign_in(client, world, tenant, user="bob")

    listed = await client.get("/v1/sessions")
    session = await client.get("/web/session")

    assert listed.json()["data"] == []
    assert session.json()["user_id"] == "bob"


async def test_markdown_is_rendered_safely(client: httpx.AsyncClient, world: World) -> None:
    tenant = await world.tenant()
    csrf = await _sign_in(client, world, tenant)
    texts = [
        "**bold** <script>alert(1)</script> [x](javascript:alert(1)) 你好",
        "| a |\n|---|\n| 1 |",
    ]

    rendered = await client.post(
        "/web/render", json={"texts": texts}, headers={**SAME_ORIGIN, "X-CSRF-Token": csrf}
    )

    html = rendered.json()["html"]
    assert "<strong>bold</strong>" in html[0] and "你好" in html[0]
    assert "<script" not in html[0] and "javascript:" not in html[0].split("[x]")[0]
    assert 'href="javascript' not in html[0]
    assert "<table>" in html[1]


async def test_the_page_is_served_at_the_root_with_a_strict_csp(client: httpx.AsyncClient) -> None:
    page = await client.get("/")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
