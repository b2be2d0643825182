"""Reading credentials off a request (shared by every dialect)."""

from __future__ import annotations

from starlette.requests import Request


def authorization_token(request: Request, schemes: tuple[str, ...] = ("bearer",)) -> str | None:
    """The token of an ``Authorization: <scheme> <token>`` header, for an accepted scheme."""
    return scheme_token(request.headers.get("authorization"), schemes)


def scheme_token(header: str | None, schemes: tuple[str, ...]) -> str | None:
    """``authorization_token`` of a header's value (the fast lane reads raw headers)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() not in schemes or not token.strip():
        return None
    return token.strip()
