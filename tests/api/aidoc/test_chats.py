from __future__ import annotations

from typing import Any

import httpx
import pytest

from chatkeep.core import messages
from chatkeep.core.types import NewMessage, SessionRecord
from tests.api.aidoc.wire import CHAT_LIST, data, error, ms
from tests.factories import Key, World

pytestmark = pytest.mark.anyio

REFERENCE = {
    "docName": "grid.pdf",
    "docUrl": "https://docs.example/grid.pdf",
    "sourceType": "doc",
    "pageNum": [{"num": 3}],
}


async def say(
    world: World, key: Key, session: SessionRecord, role: str, content: str, **metadata: Any
) -> None:
    principal = await world.principal(key)
    new = NewMessage(role=role, content=content, metadata=metadata)
    await world.run(lambda uow: messages.append_message(uow, principal, session.uuid, new))


async def test_messages_become_question_answer_pairs(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    folder = await world.domain(tenant, "Grid")
    session = await world.session(key, title="grid", domain_id=folder.id)
    await say(world, key, session, "system", "You are helpful.")
    await say(world, key, session, "user", "What is peak load?")
    await say(world, key, session, "assistant", "The highest demand.", references=[REFERENCE])
    await say(world, key, session, "user", "And base load?")
    body = {"sessionId": str(session.uuid)}
    listed = data(await client.post(CHAT_LIST, json=body, headers=key.headers))
    history = await client.get(f"/v1/sessions/{session.uuid}/messages", headers=key.headers)
    first_question_at = ms(history.json()["data"][1]["created_at"])
    assert listed == {
        "chatList": [
            {
                "question": "What is peak load?",
                "answer": "The highest demand.",
                "createTime": first_question_at,
                "folderId": str(folder.id),
                "folderName": "Grid",
                "refDocList": [REFERENCE],
            },
            {
                "question": "And base load?",
                "answer": "",
                "createTime": listed["chatList"][1]["createTime"],
                "folderId": str(folder.id),
                "folderName": "Grid",
                "refDocList": [],
            },
        ],
        "total": 2,
        "totalPage": 1,
        "currentPage": 1,
        "pageSize": 10,
    }


async def test_an_answer_joins_the_turns_assistant_messages_and_drops_bad_references(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    session = await world.session(key)
    await say(world, key, session, "assistant", "Welcome!")
    await say(world, key, session, "user", "Sum 2 and 2")
    await say(world, key, session, "assistant", "", references="not a list")
    await say(world, key, session, "tool", "4")
    bad = [7, {"docName": 1, "docUrl": "u", "pageNum": [2, {"num": 1}], "extra": True}]
    await say(world, key, session, "assistant", "It is 4.", references=bad)
    body = {"sessionId": str(session.uuid)}
    chats = data(await client.post(CHAT_LIST, json=body, headers=key.headers))["chatList"]
    assert [(c["question"], c["answer"]) for c in chats] == [
        ("", "Welcome!"),
        ("Sum 2 and 2", "It is 4."),
    ]
    assert chats[1]["refDocList"] == [{"docUrl": "u", "pageNum": [{"num": 1}]}]


async def test_pairs_are_paged_oldest_first_across_many_messages(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    session = await world.session(key)
    for n in range(120):  # 240 messages: more than one page of the core's message list
        await say(world, key, session, "user", f"q{n}")
        await say(world, key, session, "assistant", f"a{n}")

    async def page(number: int, size: int) -> dict[str, Any]:
        body = {"sessionId": str(session.uuid), "currentPage": number, "pageSize": size}
        result: dict[str, Any] = data(await client.post(CHAT_LIST, json=body, headers=key.headers))
        return result

    last = await page(3, 50)
    assert [c["question"] for c in last["chatList"]] == [f"q{n}" for n in range(100, 120)]
    assert (last["total"], last["totalPage"]) == (120, 3)
    assert (await page(4, 50))["chatList"] == []
    assert [c["answer"] for c in (await page(2, 100))["chatList"]][:1] == ["a100"]


async def test_another_users_or_tenants_session_is_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    alice = await world.key(tenant, "alice")
    session = await world.session(alice)
    bob = await world.key(tenant, "bob")
    stranger = await world.key(await world.tenant(), "alice")
    for key in (bob, stranger):
        body = {"sessionId": str(session.uuid)}
        response = await client.post(CHAT_LIST, json=body, headers=key.headers)
        assert error(response, 404, "InvalidSessionId.NotFound")["message"] == (
            "The session does not exist."
        )
