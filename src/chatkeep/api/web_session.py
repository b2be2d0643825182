"""The browser's credential on the native API: the session cookie, guarded against CSRF.

A cookie is sent by the browser on its own, so every unsafe request authenticated by it
must also prove it comes from chatkeep's own page:

* ``Sec-Fetch-Site``, when the browser sends it, must be ``same-origin`` (or ``none``);
* ``Origin``, when present, must name this host;
* ``X-CSRF-Token`` must equal the token derived from the session (a keyed double submit:
  the page learns it from ``GET /web/session``; another site can neither read that nor
  set a custom header without a CORS preflight chatkeep never grants).

Bearer API keys are unaffected: a header the browser never adds on its own needs no CSRF
guard. Only the native API accepts the cookie; the vendor dialects never do.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from starlette.requests import Request

from chatkeep.api.deps import SAFE_METHODS
from chatkeep.core.errors import Forbidden

SESSION_COOKIE = "chatkeep_session"
CSRF_HEADER = "x-csrf-token"
_SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def csrf_token(session_token: str) -> str:
    """Keyed by the session's own secret: stateless, and useless without the cookie."""
    return hmac.new(session_token.encode(), b"chatkeep web csrf v1", hashlib.sha256).hexdigest()


def check_same_origin(request: Request) -> None:
    """Refuse a request another site made the browser send (fetch metadata, then Origin)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in _SAME_SITE_FETCHES:
        raise Forbidden(f"Cross-site request refused (Sec-Fetch-Site: {site}).", action="csrf")
    origin = request.headers.get("origin")
    # Compare hosts only: behind a TLS-terminating proxy the scheme seen here may differ.
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden("Cross-origin request refused (Origin mismatch).", action="csrf")


def check_csrf(request: Request, session_token: str) -> None:
    if request.method in SAFE_METHODS:
        return
    check_same_origin(request)
    presented = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(presented, csrf_token(session_token)):
        raise Forbidden("Missing or wrong X-CSRF-Token header.", action="csrf")
