"""Alibaba Cloud V3 signature (ACS3-HMAC-SHA256) verification.

Rebuilds the canonical request exactly as the official SDK signs it
(``alibabacloud_tea_openapi.utils.Utils.get_authorization``)::

    METHOD, CanonicalURI, CanonicalQuery, CanonicalHeaders, SignedHeaders, HashedPayload

joined by newlines, then ``StringToSign = ALGORITHM + "\\n" + hex(sha256(CanonicalRequest))``
and ``Signature = hex(hmac_sha256(secret, StringToSign))``. The error codes and statuses are
tabled in docs/aidoc-auth.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

from starlette.datastructures import Headers
from starlette.requests import Request

from chatkeep.api.aidoc.errors import AidocError
from chatkeep.core import access_keys
from chatkeep.core.clock import utcnow
from chatkeep.core.errors import Unauthenticated
from chatkeep.core.models import ACCESS_KEY_ID_MAX, SIGNATURE_NONCE_MAX
from chatkeep.core.types import Principal
from chatkeep.core.uow import UnitOfWork

ALGORITHM = "ACS3-HMAC-SHA256"
MAX_CLOCK_SKEW = timedelta(minutes=15)
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # what the SDK's Utils.get_timestamp() sends
# Headers a signature must cover: without them a captured request could be replayed with
# a fresh nonce or date, or re-pointed at another host.
REQUIRED_SIGNED = ("host", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce")
_PURGE_ONE_IN = 64  # expired nonces are deleted by about one request in this many


class AcsAuthError(AidocError):
    """An authentication failure with Alibaba's own error code and HTTP status."""


@dataclass(frozen=True, slots=True)
class Authorization:
    access_key_id: str
    signed_headers: tuple[str, ...]
    signature: str


def _incomplete(message: str) -> AcsAuthError:
    return AcsAuthError("IncompleteSignature", message)


def parse_authorization(header: str) -> Authorization:
    """``ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>``."""
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise _incomplete(f"The signature algorithm must be {ALGORITHM}.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep or name in fields:
            raise _incomplete("The Authorization header is malformed.")
        fields[name] = value.strip()
    if set(fields) != {"Credential", "SignedHeaders", "Signature"} or not all(fields.values()):
        raise _incomplete("Authorization needs exactly Credential, SignedHeaders and Signature.")
    signed = tuple(fields["SignedHeaders"].split(";"))
    if any(not h or h != h.lower() for h in signed) or list(signed) != sorted(set(signed)):
        raise _incomplete("SignedHeaders must be distinct lower-case names in sorted order.")
    signature = fields["Signature"].lower()
    if len(signature) != 64 or any(c not in "0123456789abcdef" for c in signature):
        raise _incomplete("Signature must be 64 hexadecimal characters.")
    return Authorization(fields["Credential"], signed, signature)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the SDK does it: only A-Z a-z 0-9 - _ . ~ stay; space is %20."""
    return quote(value, safe="~")


def canonical_query(raw_query: bytes) -> str:
    """Sorted ``key=value`` pairs, both percent-encoded, joined by ``&``.

    The SDK encodes only the value, but its parameter names are plain ASCII identifiers,
    for which encoding changes nothing (and Alibaba's specification encodes both).
    """
    pairs = parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True)
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(pairs))


def canonical_headers(headers: Headers, signed: Sequence[str]) -> str:
    """``name:value\\n`` per signed header; repeated values trimmed, sorted, comma-joined."""
    lines = []
    for name in signed:
        values = headers.getlist(name)
        if not values:
            raise _incomplete(f"The signed header {name!r} is not in the request.")
        lines.append(f"{name}:{','.join(sorted(v.strip() for v in values))}\n")
    return "".join(lines)


def canonical_request(
    method: str, path: str, query: str, headers: str, signed: Sequence[str], payload_hash: str
) -> str:
    return f"{method}\n{path or '/'}\n{query}\n{headers}\n{';'.join(signed)}\n{payload_hash}"


def compute_signature(secret: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    string_to_sign = f"{ALGORITHM}\n{digest}"
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def request_canonical_form(request: Request, auth: Authorization, payload_hash: str) -> str:
    # The raw path as it came over the wire: the SDK signs its (already encoded) pathname.
    raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
    path = raw_path.split(b"?", 1)[0].decode("latin-1")
    return canonical_request(
        request.method,
        path,
        canonical_query(request.scope.get("query_string", b"")),
        canonical_headers(request.headers, auth.signed_headers),
        auth.signed_headers,
        payload_hash,
    )


@dataclass(frozen=True, slots=True)
class SignedFields:
    signed_at: datetime
    nonce: str
    content_sha256: str


def _single_header(headers: Headers, name: str) -> str:
    values = headers.getlist(name)
    if not values or not values[0].strip():
        raise AcsAuthError(
            "MissingParameter",
            f'The input parameter "{name}" that is mandatory for processing this request '
            "is not supplied.",
        )
    if len(values) > 1:
        raise _incomplete(f"The header {name!r} must appear once.")
    return values[0].strip()


def read_signed_fields(headers: Headers, auth: Authorization, now: datetime) -> SignedFields:
    """The date, nonce and content hash, checked for presence, coverage, form and age."""
    date, nonce, content_sha256 = (
        _single_header(headers, name)
        for name in ("x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256")
    )
    unsigned = {*REQUIRED_SIGNED, *(h for h in headers if h.startswith("x-acs-"))}
    if "content-type" in headers:
        unsigned.add("content-type")
    unsigned -= set(auth.signed_headers)
    if unsigned:
        raise _incomplete(f"SignedHeaders must include {', '.join(sorted(unsigned))}.")
    try:
        signed_at = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise AcsAuthError(
            "InvalidTimeStamp.Format", "x-acs-date must be UTC yyyy-MM-ddTHH:mm:ssZ."
        ) from None
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise AcsAuthError(
            "InvalidTimeStamp.Expired",
            "The x-acs-date is more than 15 minutes from the server's clock.",
        )
    if len(nonce) > SIGNATURE_NONCE_MAX or not (nonce.isascii() and nonce.isprintable()):
        raise AcsAuthError(
            "InvalidParameter.SignatureNonce",
            f"x-acs-signature-nonce must be 1 to {SIGNATURE_NONCE_MAX} printable ASCII characters.",
        )
    return SignedFields(signed_at, nonce, content_sha256)


async def _signing_key(uow: UnitOfWork, access_key_id: str) -> access_keys.SigningKey:
    not_found = AcsAuthError(
        "InvalidAccessKeyId.NotFound", "Specified access key is not found.", 404
    )
    if len(access_key_id) > ACCESS_KEY_ID_MAX:
        raise not_found
    try:
        key = await access_keys.load_signing_key(uow, access_key_id)
    except Unauthenticated as exc:  # sealed under another server key
        raise AcsAuthError("InvalidAccessKeyId.Inactive", exc.message) from None
    if key is None:
        raise not_found
    return key


async def authenticate_acs3(request: Request, uow: UnitOfWork) -> Principal:
    """Verify the request's ACS3-HMAC-SHA256 signature and return its principal.

    The nonce is recorded in the request's own transaction: a request that succeeds
    burns it for good (in every worker, the row is shared), while a request rejected
    later rolls back with everything else, so "nothing changes" holds for it too.
    """
    auth = parse_authorization(request.headers.get("authorization", ""))
    fields = read_signed_fields(request.headers, auth, utcnow())
    key = await _signing_key(uow, auth.access_key_id)
    expected = compute_signature(
        key.secret, request_canonical_form(request, auth, fields.content_sha256)
    )
    if not hmac.compare_digest(expected.encode(), auth.signature.encode()):
        raise AcsAuthError(
            "SignatureDoesNotMatch", "Specified signature does not match our calculation."
        )
    body_hash = hashlib.sha256(await request.body()).hexdigest()
    if not hmac.compare_digest(body_hash.encode(), fields.content_sha256.lower().encode()):
        raise AcsAuthError(
            "ContentSha256Mismatch", "x-acs-content-sha256 does not match the request body."
        )
    if key.revoked:  # told only to a caller who proved it holds the secret
        raise AcsAuthError("InvalidAccessKeyId.Inactive", "Specified access key is disabled.")
    fresh = await access_keys.record_signature_nonce(
        uow,
        key.row.id,
        fields.nonce,
        fields.signed_at + MAX_CLOCK_SKEW,
        purge=secrets.randbelow(_PURGE_ONE_IN) == 0,
    )
    if not fresh:
        raise AcsAuthError("SignatureNonceUsed", "Specified signature nonce was used already.")
    return await access_keys.principal_for_access_key(uow, key.row)
