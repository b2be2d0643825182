"""Routes answered with and without the trailing slash.

AISquare's paths end in "/" (Django style). Rather than redirect like Django's
``APPEND_SLASH`` (which cannot carry a POST body over), the path without the slash
answers the same way; only the slashed form is in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter

PREFIX = "/api/v1/qllm"

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def route(
    router: APIRouter, method: str, path: str, **options: Any
) -> Callable[[Endpoint], Endpoint]:
    def register(endpoint: Endpoint) -> Endpoint:
        router.add_api_route(path, endpoint, methods=[method], **options)
        router.add_api_route(
            path.rstrip("/"), endpoint, methods=[method], include_in_schema=False, **options
        )
        return endpoint

    return register
