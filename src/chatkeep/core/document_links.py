"""Signed, expiring links to a document's original bytes.

The Alibaba dialect hands its SDK users `docUrl`s they open without credentials (a browser
tab, a PDF viewer). A link names the tenant, the document and an expiry, sealed with an
HMAC under the server key, so it opens exactly one document until it expires and a change
of any part of it is refused. Links cannot be revoked before they expire; deleting the
document ends them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from chatkeep.core.clock import utcnow
from chatkeep.core.errors import NotFound

LINK_LIFETIME = timedelta(hours=24)  # Alibaba documents its page-image URLs as 24 h links
# Expiries are rounded up to the hour, so a link lives 24-25 h and every rendering of one
# answer within that hour (a re-attached stream, a list read again) gives the same URL.
EXPIRY_STEP_SECONDS = 3600
_CONTEXT = b"chatkeep document link v1"


@dataclass(frozen=True, slots=True)
class DocumentLink:
    tenant_id: int
    document_id: uuid.UUID
    expires: int  # UNIX seconds


class DocumentLinkSigner:
    def __init__(self, server_key: bytes) -> None:
        self._key = hmac.new(server_key, _CONTEXT, hashlib.sha256).digest()

    def sign(self, tenant_id: int, document_id: uuid.UUID, *, now: datetime | None = None) -> str:
        """The query string (``expires=…&signature=…``) that opens this document."""
        at_least = int(((now or utcnow()) + LINK_LIFETIME).timestamp())
        expires = -(-at_least // EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS
        link = DocumentLink(tenant_id, document_id, expires)
        return f"tenant={tenant_id}&expires={expires}&signature={self._mac(link)}"

    def verify(
        self, tenant: str, document_id: uuid.UUID, expires: str, signature: str,
        *, now: datetime | None = None,
    ) -> DocumentLink:  # fmt: skip
        """The link, if its signature holds and it has not expired; ``NotFound`` otherwise
        (a forged or stale link must not tell whether the document exists)."""
        if not (tenant.isdigit() and expires.isdigit()) or len(tenant) > 19 or len(expires) > 12:
            raise NotFound("document")
        link = DocumentLink(int(tenant), document_id, int(expires))
        if not hmac.compare_digest(self._mac(link), signature):
            raise NotFound("document")
        if link.expires < (now or utcnow()).timestamp():
            raise NotFound("document")
        return link

    def _mac(self, link: DocumentLink) -> str:
        message = f"{link.tenant_id}:{link.document_id}:{link.expires}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
