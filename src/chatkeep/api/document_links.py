"""The signed, expiring document URLs the vendor dialects put in answers (``docUrl``).

A link opens ``GET /v1/document-links/{id}`` without credentials: the signature is the
authority (core.document_links). It is absolute, on the host the caller used, so an SDK
user can open it in a browser as it is.
"""

from __future__ import annotations

import uuid

from fastapi import Request

from chatkeep.api.deps import app_state

LINK_ROUTE = "/document-links/{document_id}"  # under the native router's /v1


def document_url(request: Request, tenant_id: int, document_id: uuid.UUID) -> str:
    signed = app_state(request).links.sign(tenant_id, document_id)
    base = str(request.base_url).rstrip("/")
    return f"{base}/v1{LINK_ROUTE.format(document_id=document_id)}?{signed}"
