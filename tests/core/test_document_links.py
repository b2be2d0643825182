from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from chatkeep.core.clock import utcnow
from chatkeep.core.document_links import EXPIRY_STEP_SECONDS, LINK_LIFETIME, DocumentLinkSigner
from chatkeep.core.errors import NotFound

DOC = uuid.UUID("00000000-0000-4000-8000-000000000001")


def _parts(query: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(query).items()}


def test_a_signed_link_opens_its_document_until_it_expires() -> None:
    signer, now = DocumentLinkSigner(b"k" * 32), utcnow()
    parts = _parts(signer.sign(7, DOC, now=now))
    link = signer.verify(parts["tenant"], DOC, parts["expires"], parts["signature"], now=now)
    assert (link.tenant_id, link.document_id) == (7, DOC)
    lifetime = timedelta(seconds=int(parts["expires"]) - now.timestamp())
    assert LINK_LIFETIME <= lifetime <= LINK_LIFETIME + timedelta(seconds=EXPIRY_STEP_SECONDS)
    later = now + lifetime + timedelta(seconds=1)
    with pytest.raises(NotFound):
        signer.verify(parts["tenant"], DOC, parts["expires"], parts["signature"], now=later)


def test_links_signed_within_one_hour_are_the_same_link() -> None:
    signer = DocumentLinkSigner(b"k" * 32)
    hour = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    first = signer.sign(7, DOC, now=hour + timedelta(seconds=1))
    assert signer.sign(7, DOC, now=hour + timedelta(minutes=59)) == first
    assert signer.sign(7, DOC, now=hour + timedelta(minutes=61)) != first


@pytest.mark.parametrize("field", ["tenant", "expires", "document", "key"])
def test_a_changed_link_is_refused(field: str) -> None:
    signer = DocumentLinkSigner(b"k" * 32)
    parts = _parts(signer.sign(7, DOC))
    document = DOC
    if field == "tenant":
        parts["tenant"] = "8"
    elif field == "expires":
        parts["expires"] = str(int(parts["expires"]) + 3600)
    elif field == "document":
        document = uuid.uuid4()
    else:
        signer = DocumentLinkSigner(b"other key" * 4)
    with pytest.raises(NotFound):
        signer.verify(parts["tenant"], document, parts["expires"], parts["signature"])


@pytest.mark.parametrize("tenant,expires", [("-1", "1"), ("1", "x"), ("9" * 40, "1")])
def test_a_malformed_link_is_not_found(tenant: str, expires: str) -> None:
    with pytest.raises(NotFound):
        DocumentLinkSigner(b"k" * 32).verify(tenant, DOC, expires, "sig")
