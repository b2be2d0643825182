"""The AI-doc document reads run in read transactions, and a signed one still spends its nonce.

DetailDocument is a GET: with a bearer key it is a read like any GET; under an AK/SK
signature it keeps a write transaction, so the nonce is recorded and a replay refused.
"""

from __future__ import annotations

import anyio
import httpx
import pytest
import sqlalchemy as sa

from tests.api.aidoc.test_signature_http import refused, send, signer_for
from tests.factories import World

pytestmark = pytest.mark.anyio

DETAIL = "/api/v1/aidoc/document/detail"
PARSING_RESULT = "/api/v2/aidoc/document/getDocParsingResult"
RETRIEVE = "/api/v2/aidoc/knowledgebase/retrieve"


async def test_document_reads_answer_while_a_writer_holds_its_transaction(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant, "alice")
    folder = await world.domain(tenant, "Docs")
    added = await world.document(key, folder.id, "otters.txt", b"Otters hold hands asleep.")
    await world.ingest()
    task = str(added.document.id)
    async with world.uow() as writer:  # the app's own write transaction, left open
        await writer.db.execute(sa.text("DELETE FROM access_key_nonces WHERE 1 = 0"))
        with anyio.fail_after(5):  # a read waiting for the write lock would take 30 s
            detail = await client.get(DETAIL, params={"taskId": task}, headers=key.headers)
            parsed = await client.post(PARSING_RESULT, json={"taskId": task}, headers=key.headers)
            found = await client.post(RETRIEVE, json={"query": "otters"}, headers=key.headers)
    assert detail.json()["data"]["jobStatus"] == "ready", detail.text
    assert parsed.json()["data"]["content"] == "Otters hold hands asleep."
    assert [r["docId"] for r in found.json()["data"]["results"]] == [str(added.document.number)]


async def test_a_signed_detail_document_refuses_a_replayed_nonce(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant, "alice")
    folder = await world.domain(tenant, "Docs")
    added = await world.document(key, folder.id, "a.txt", b"Signed reading.")
    signer = await signer_for(world, tenant, "alice")
    signed = signer.sign("GET", DETAIL, query={"taskId": str(added.document.id)})

    first = await send(client, signed)
    assert first.status_code == 200 and first.json()["data"]["jobStatus"] == "queued", first.text
    refused(await send(client, signed), 400, "SignatureNonceUsed")
    fresh = signer.sign("GET", DETAIL, query={"taskId": str(added.document.id)})
    assert (await send(client, fresh)).status_code == 200
