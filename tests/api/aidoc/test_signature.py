"""The canonical request, rebuilt from what arrives over the wire, matches the SDK's signer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request

from chatkeep.api.aidoc.signature import (
    AcsAuthError,
    canonical_headers,
    canonical_query,
    compute_signature,
    parse_authorization,
    read_signed_fields,
    request_canonical_form,
)
from tests.api.aidoc.sdk_signing import SdkSigner, SignedRequest

pytestmark = pytest.mark.anyio

SECRET = "s3cr3t-Secret-of-thirty-chars!"
signer = SdkSigner("CKAKexample0000000000001", SECRET)


def as_received(signed: SignedRequest) -> Request:
    """The ASGI request a server sees for what the SDK sends (header names lower-cased)."""
    parts = urlsplit(signed.url)
    scope = {
        "type": "http",
        "method": signed.method,
        "path": unquote(parts.path),
        "raw_path": parts.path.encode(),
        "query_string": parts.query.encode(),
        "headers": [(k.lower().encode(), v.encode()) for k, v in signed.headers.items()],
    }
    return Request(scope)


def server_signature(signed: SignedRequest, secret: str = SECRET) -> str:
    request = as_received(signed)
    auth = parse_authorization(request.headers["authorization"])
    form = request_canonical_form(request, auth, request.headers["x-acs-content-sha256"])
    return compute_signature(secret, form)


def sdk_signature(signed: SignedRequest) -> str:
    return parse_authorization(signed.headers["Authorization"]).signature


@pytest.mark.parametrize(
    ("method", "path", "query", "body"),
    [
        ("POST", "/api/v2/aidoc/document/chat/session/list", None, {"currentPage": 1}),
        ("POST", "/api/v2/aidoc/document/chat/session/create", None, {"name": '问答 ✓ "x"'}),
        ("POST", "/api/v2/aidoc/document/chat/folder/list", None, None),
        ("DELETE", "/api/v1/aidoc/folder/delete", {"folderId": "1234"}, None),
        (
            "DELETE",
            "/api/v1/aidoc/folder/delete",
            {"folderId": "a b+c/d~e*f&g=h'é", "empty": "", "Zed": "1", "alpha": "2"},
            None,
        ),
    ],
)
async def test_server_computes_the_sdks_signature(
    method: str, path: str, query: dict[str, str] | None, body: dict[str, object] | None
) -> None:
    signed = signer.sign(method, path, query=query, body=body)
    assert server_signature(signed) == sdk_signature(signed)


async def test_signed_header_values_are_trimmed_like_the_sdk() -> None:
    signed = signer.sign("POST", "/p", body={}, x_acs_action="  GetChatList  ")
    assert server_signature(signed) == sdk_signature(signed)


async def test_another_secret_gives_another_signature() -> None:
    signed = signer.sign("POST", "/p", body={})
    assert server_signature(signed, "another-secret") != sdk_signature(signed)


async def test_query_is_sorted_and_rfc3986_encoded() -> None:
    assert canonical_query(b"b=2&a=x+y&c=%7E%2A&d=") == "a=x%20y&b=2&c=~%2A&d="


@pytest.mark.parametrize(
    "header",
    [
        "ACS3-HMAC-SHA256",
        "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=xyz",
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=x-acs-date;host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=Host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=" + "0" * 64,
        "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=" + "0" * 64,
    ],
)
async def test_malformed_authorization_is_an_incomplete_signature(header: str) -> None:
    with pytest.raises(AcsAuthError) as caught:
        parse_authorization(header)
    assert (caught.value.code, caught.value.status) == ("IncompleteSignature", 400)


def _fields_error(signed: SignedRequest, now: datetime | None = None) -> str:
    request = as_received(signed)
    auth = parse_authorization(request.headers["authorization"])
    with pytest.raises(AcsAuthError) as caught:
        read_signed_fields(request.headers, auth, now or datetime.now(UTC))
    return caught.value.code


async def test_dates_beyond_fifteen_minutes_either_way_are_expired() -> None:
    signed = signer.sign("POST", "/p", body={})
    now = datetime.now(UTC)
    assert _fields_error(signed, now + timedelta(minutes=16)) == "InvalidTimeStamp.Expired"
    assert _fields_error(signed, now - timedelta(minutes=16)) == "InvalidTimeStamp.Expired"


async def test_date_in_another_format_is_rejected() -> None:
    signed = signer.sign("POST", "/p", body={}, x_acs_date="Thu, 06 Feb 2020 07:32:54 GMT")
    assert _fields_error(signed) == "InvalidTimeStamp.Format"


async def test_missing_nonce_is_a_missing_parameter() -> None:
    signed = signer.sign("POST", "/p", body={}, x_acs_signature_nonce="")
    assert _fields_error(signed) == "MissingParameter"


async def test_overlong_nonce_is_invalid() -> None:
    signed = signer.sign("POST", "/p", body={}, x_acs_signature_nonce="n" * 129)
    assert _fields_error(signed) == "InvalidParameter.SignatureNonce"


async def test_every_x_acs_header_must_be_signed() -> None:
    signed = signer.sign("POST", "/p", body={})
    signed.headers["x-acs-extra"] = "added after signing"
    assert _fields_error(signed) == "IncompleteSignature"


async def test_a_signed_header_missing_from_the_request_is_incomplete() -> None:
    signed = signer.sign("POST", "/p", body={})
    del signed.headers["user-agent"]
    request = as_received(signed)
    auth = parse_authorization(request.headers["authorization"])
    with pytest.raises(AcsAuthError) as caught:
        request_canonical_form(request, auth, "")
    assert caught.value.code == "IncompleteSignature"


async def test_headers_with_repeated_values_are_sorted_and_joined() -> None:
    headers = Headers(raw=[(b"x-acs-b", b" 2 "), (b"x-acs-b", b"1"), (b"host", b"h")])
    assert canonical_headers(headers, ["host", "x-acs-b"]) == "host:h\nx-acs-b:1,2\n"
