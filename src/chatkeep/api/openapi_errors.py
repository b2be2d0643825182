"""The error answers each dialect documents in the OpenAPI document.

FastAPI would otherwise advertise only its own 422 ``HTTPValidationError`` on every route,
a shape no dialect sends: the native API answers RFC 9457 problem+json, AISquare DRF
bodies with 400 for invalid input, AI-doc Alibaba bodies with 400. Declaring ``4XX``
replaces FastAPI's default, and the listed codes say which failures a client can meet.
"""

from __future__ import annotations

from typing import Any

_PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
_DRF = {
    "type": "object",
    "description": '`{"detail": "..."}`, or field errors `{"field": ["message", ...]}`.',
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
_ALIBABA = {
    "type": "object",
    "required": ["requestId", "code", "message"],
    "properties": {
        "requestId": {"type": "string"},
        "code": {"type": "string"},
        "message": {"type": "string"},
        "accessDeniedDetail": {"type": "object", "description": "403s: the refused action."},
    },
}

_MEANINGS = {
    "400": "Malformed or invalid request",
    "401": "Missing, invalid, expired or revoked credential",
    "403": "The credential lacks the scope, or may not act for the named user",
    "404": "No such resource visible to this credential",
    "409": "Conflicts with the stored state",
    "413": "Request body too large",
    "422": "Invalid fields",
    "429": "Rate limit exceeded (see Retry-After)",
    "4XX": "Any other client error, in the same shape",
    "503": "The database is unavailable; retry later",
}


def _responses(media_type: str, schema: dict[str, Any], codes: list[str]) -> dict[int | str, Any]:
    return {
        code: {"description": _MEANINGS[code], "content": {media_type: {"schema": schema}}}
        for code in codes
    }


_COMMON = ["401", "403", "404", "409", "413", "429", "4XX", "503"]
NATIVE_ERRORS = _responses("application/problem+json", _PROBLEM, ["400", "422", *_COMMON])
AISQUARE_ERRORS = _responses("application/json", _DRF, ["400", *_COMMON])
AIDOC_ERRORS = _responses("application/json", _ALIBABA, ["400", *_COMMON])
