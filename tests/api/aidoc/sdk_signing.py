"""Requests signed by the official SDK's own signer, for the signature tests.

Mirrors what ``alibabacloud_tea_openapi.client.Client.do_request`` puts on the wire for an
ROA call (headers, JSON body, query string) and signs it with
``Utils.get_authorization``, so the server is checked against the SDK, not against itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from alibabacloud_tea_openapi.utils import Utils
from darabonba.core import DaraCore
from darabonba.request import DaraRequest

ALGORITHM = "ACS3-HMAC-SHA256"


@dataclass
class SignedRequest:
    method: str
    url: str  # path and query, as the SDK's compose_url builds them
    headers: dict[str, str]
    body: bytes

    def send_args(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": self.headers,
            "content": self.body,
        }


@dataclass
class SdkSigner:
    access_key_id: str
    access_key_secret: str
    host: str = "chatkeep.test"
    overrides: dict[str, str] = field(default_factory=dict)

    def sign(
        self,
        method: str,
        pathname: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        **headers: str,
    ) -> SignedRequest:
        """Sign like the SDK; ``headers`` (``x_acs_date=...``) override the SDK's defaults."""
        request = DaraRequest()
        request.method = method
        request.pathname = pathname
        request.query = dict(query or {})
        request.headers = {
            "host": self.host,
            "x-acs-version": "2022-09-23",
            "x-acs-action": "Test",
            "user-agent": Utils.get_user_agent(None),
            "x-acs-date": Utils.get_timestamp(),
            "x-acs-signature-nonce": Utils.get_nonce(),
            "accept": "application/json",
            **{k.replace("_", "-"): v for k, v in headers.items()},
        }
        raw = b""
        if body is not None:
            raw = DaraCore.to_json_string(body).encode()
            request.headers["content-type"] = "application/json; charset=utf-8"
        payload_hash = hashlib.sha256(raw).hexdigest()
        request.headers["x-acs-content-sha256"] = payload_hash
        request.headers["Authorization"] = Utils.get_authorization(
            request, ALGORITHM, payload_hash, self.access_key_id, self.access_key_secret
        )
        url = pathname + (f"?{urlencode(request.query)}" if request.query else "")
        return SignedRequest(method, url, dict(request.headers), raw)
