"""AI-doc lists are POSTs that only read: they run in read transactions.

On SQLite a write transaction holds the database's single write lock (BEGIN IMMEDIATE),
so a list in one would queue behind every writer; in a read transaction it does not.
An AK/SK-signed list still writes its nonce, so it keeps a write transaction and a
replay is still refused.
"""

from __future__ import annotations

import anyio
import httpx
import pytest
import sqlalchemy as sa

from tests.api.aidoc.test_signature_http import refused, send, sessions_listed, signer_for
from tests.api.aidoc.wire import CHAT_LIST, FOLDER_LIST, SESSION_LIST, data
from tests.factories import World

pytestmark = pytest.mark.anyio


async def test_lists_answer_while_a_writer_holds_its_transaction(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    session = await world.session(key, title="readable")
    async with world.uow() as writer:  # the app's own write transaction, left open
        await writer.db.execute(sa.text("DELETE FROM access_key_nonces WHERE 1 = 0"))
        with anyio.fail_after(5):  # a list waiting for the write lock would take 30 s
            listed = await client.post(SESSION_LIST, json={}, headers=key.headers)
            chats = await client.post(
                CHAT_LIST, json={"sessionId": str(session.uuid)}, headers=key.headers
            )
            folders = await client.post(FOLDER_LIST, json={}, headers=key.headers)
    assert [s["name"] for s in data(listed)["sessionList"]] == ["readable"]
    assert data(chats)["total"] == 0
    assert folders.status_code == 200, folders.text


async def test_a_signed_list_still_refuses_a_replayed_nonce(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    await world.session(await world.key(tenant, "alice"), title="mine")
    signer = await signer_for(world, tenant, "alice")
    signed = signer.sign("POST", SESSION_LIST, body={"pageSize": 10})

    assert sessions_listed(await send(client, signed)) == ["mine"]
    refused(await send(client, signed), 400, "SignatureNonceUsed")
    fresh = signer.sign("POST", SESSION_LIST, body={"pageSize": 10})
    assert sessions_listed(await send(client, fresh)) == ["mine"]
