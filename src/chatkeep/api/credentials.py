"""Reading credentials off a request (shared by every dialect)."""

from __future__ import annotations

from starlette.requests import Request


def authorization_token(request: Request, schemes: tuple[str, ...] = ("bearer",)) -> str | None:
    """The token of an ``Authorization: <scheme> <token>`` header, for an accepted scheme."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in schemes or not token.strip():
        return None
    return token.strip()
