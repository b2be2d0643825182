"""Answers whose process died end incomplete; the question and partial text survive."""

from __future__ import annotations

import pytest

from chatkeep.core.answering import service
from chatkeep.core.answering.records import AnswerConfig, AskRequest
from chatkeep.core.answering.sweeper import INCOMPLETE_REASON
from chatkeep.core.repository import answers as rows
from tests.answers.conftest import StartWorker
from tests.answers_support import read_events
from tests.factories import World

pytestmark = pytest.mark.anyio


async def test_an_answer_whose_process_died_is_marked_incomplete_by_any_worker(
    start_worker: StartWorker,
) -> None:
    node = await start_worker(answer_lease_seconds=0.5)
    world = World(node.runtime)
    key = await world.key(await world.tenant())
    session = await world.session(key, title="dead")
    principal = await world.principal(key)
    ask = AskRequest(session_id=session.uuid, question="Will this survive?")

    async def open_orphan(uow: object) -> service.Opened:
        # Opened by a process that then died: nobody generates it or renews its lease.
        opened = await service.open_answer(
            uow,
            principal,
            ask,
            AnswerConfig(lease_seconds=0.5),
            "dead-host:1:x",  # type: ignore[arg-type]
        )
        await rows.set_message_content(uow.db, opened.answer.message_id, "Partial ans")  # type: ignore[attr-defined]
        return opened

    opened = await world.run(open_orphan)
    async with node.client() as client:
        # The reader waits on the running answer until a sweeper (every ~lease/2) ends it.
        async with client.stream(
            "GET", f"/v1/answers/{opened.answer.id}/events", headers=key.headers
        ) as resp:
            events = await read_events(resp)
        stored = (await client.get(f"/v1/answers/{opened.answer.id}", headers=key.headers)).json()
        listed = (await client.get(f"/v1/sessions/{session.uuid}/messages",
                                   headers=key.headers)).json()  # fmt: skip
    assert [e.type for e in events] == ["question", "error"]
    assert events[-1].data == {
        "answer_id": str(opened.answer.id), "status": "incomplete", "reason": INCOMPLETE_REASON,
    }  # fmt: skip
    assert stored["status"] == "incomplete" and stored["content"] == "Partial ans"
    assert [m["content"] for m in listed["data"]] == ["Will this survive?", "Partial ans"]
    assert listed["data"][1]["answer"]["status"] == "incomplete"
    # A new question may be asked now that nothing runs in the session.
    async with node.client() as client:
        again = await client.post(f"/v1/sessions/{session.uuid}/answers", headers=key.headers,
                                  json={"question": "And now?", "stream": False})  # fmt: skip
    assert again.status_code == 200
