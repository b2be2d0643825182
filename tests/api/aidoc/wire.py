"""The AI-doc paths and small assertions every AI-doc test shares."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

SESSION_LIST = "/api/v2/aidoc/document/chat/session/list"
SESSION_CREATE = "/api/v2/aidoc/document/chat/session/create"
CHAT_LIST = "/api/v2/aidoc/document/chat/list"
FOLDER_LIST = "/api/v2/aidoc/document/chat/folder/list"
FOLDER_ADD = "/api/v1/aidoc/folder/add"
FOLDER_DELETE = "/api/v1/aidoc/folder/delete"

REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


def ms(moment: datetime | str) -> int:
    """Integer UNIX milliseconds of a datetime or an ISO-8601 string (the native API's)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


def data(response: httpx.Response) -> Any:
    """The ``data`` of a 200 envelope, after checking the envelope and the request-id header."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"requestId", "data"}
    assert REQUEST_ID.match(body["requestId"])
    assert response.headers["x-acs-request-id"] == body["requestId"]
    return body["data"]


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An Alibaba error body: exactly requestId/code/message (+ accessDeniedDetail on 403)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    expected = {"requestId", "code", "message"}
    if status == 403:
        expected.add("accessDeniedDetail")
    assert set(body) == expected, body
    assert body["code"] == code, body
    assert body["message"]
    assert response.headers["x-acs-request-id"] == body["requestId"]
    return body
