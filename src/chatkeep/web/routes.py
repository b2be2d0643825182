"""Web routes: the page, static files, sign-in/out, and Markdown rendering."""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from chatkeep.api.deps import DbUnit, app_state, reads_only
from chatkeep.api.native.deps import CurrentPrincipal
from chatkeep.api.web_session import (
    SESSION_COOKIE,
    check_csrf,
    check_same_origin,
    csrf_token,
    session_cookie,
)
from chatkeep.core import web_sessions
from chatkeep.core.errors import Unauthenticated
from chatkeep.web.markdown import render_markdown

STATIC_DIR = Path(str(files("chatkeep.web") / "static"))
# The page loads only its own scripts and styles and talks only to its own origin.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
RENDER_BATCH_MAX = 100

router = APIRouter(prefix="/web", tags=["web"], include_in_schema=False)


class LoginBody(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class WebSessionOut(BaseModel):
    tenant: str
    user_id: str
    csrf_token: str
    expires_at: datetime | None


class RenderBody(BaseModel):
    texts: Annotated[list[str], Field(max_length=RENDER_BATCH_MAX)]


class RenderOut(BaseModel):
    html: list[str]


@router.post("/login", summary="Redeem a one-time sign-in token for a session cookie")
async def login(
    body: LoginBody, request: Request, response: Response, uow: DbUnit
) -> WebSessionOut:
    check_same_origin(request)  # login CSRF: another site must not sign a browser in
    settings = app_state(request).settings
    issued = await web_sessions.redeem_login_token(
        uow, body.token, session_ttl=timedelta(hours=settings.web_session_hours)
    )
    secure = settings.web_cookie_secure
    response.set_cookie(
        SESSION_COOKIE,
        issued.token,
        max_age=int(settings.web_session_hours * 3600),
        path="/",
        secure=request.url.scheme == "https" if secure is None else secure,
        httponly=True,
        samesite="strict",
    )
    return WebSessionOut(
        tenant=issued.tenant,
        user_id=issued.user_id,
        csrf_token=csrf_token(issued.token),
        expires_at=issued.expires_at,
    )


@router.get("/session", summary="Who this browser is signed in as, and its CSRF token")
async def read_session(request: Request, principal: CurrentPrincipal) -> WebSessionOut:
    cookie = session_cookie(request)
    if cookie is None or not principal.credential_id.startswith("web:"):
        raise Unauthenticated("Sign in to use the web UI.", reason="missing")
    return WebSessionOut(
        tenant=principal.tenant_name,
        user_id=principal.user_id,
        csrf_token=csrf_token(cookie),
        expires_at=principal.credential_expires_at,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out")
async def logout(request: Request, response: Response, uow: DbUnit) -> None:
    cookie = session_cookie(request)
    if cookie is not None:
        check_csrf(request, cookie)
        await web_sessions.end_web_session(uow, cookie)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.post("/render", summary="Markdown to sanitized HTML (for finished messages)")
@reads_only()
async def render(body: RenderBody, _principal: CurrentPrincipal) -> RenderOut:
    return RenderOut(html=[render_markdown(text) for text in body.texts])


async def index() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


def install_web(app: FastAPI) -> None:
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.include_router(router)
    app.mount("/web/static", StaticFiles(directory=STATIC_DIR), name="web-static")
