"""The conversation so far, as the prompt sees it."""

from __future__ import annotations

from chatkeep.core.answering.prompts import Turn
from chatkeep.core.answering.records import AnswerRecord
from chatkeep.core.repository import answers as rows
from chatkeep.core.types import SessionRecord
from chatkeep.core.uow import UnitOfWork

HISTORY_MESSAGES = 40  # read at most this many earlier messages; the token budget cuts more


async def earlier_turns(
    uow: UnitOfWork, tenant_id: int, answer: AnswerRecord, session: SessionRecord
) -> list[Turn]:
    """The turns before the question, oldest first. Of a question's several answers only
    the latest counts (the others are alternatives the user moved away from), and empty
    or unfinished answers do not count at all."""
    found = await rows.history_before(
        uow.db, tenant_id, session.owner_pk, session.id,
        answer.question_message_id, HISTORY_MESSAGES,
    )  # fmt: skip
    produced = await rows.answers_of_messages(
        uow.db, tenant_id, [m.id for m in found if m.role == "assistant"]
    )
    latest = await rows.answers_to_questions(
        uow.db, tenant_id, list({a.question_message_id for a in produced})
    )
    by_message = {a.message_id: a for a in produced}
    turns: list[Turn] = []
    for message in reversed(found):
        if message.role not in ("user", "assistant") or not message.content.strip():
            continue
        made_by = by_message.get(message.id)
        if made_by is not None and (
            made_by.status != "complete" or latest[made_by.question_message_id][0] != made_by.id
        ):
            continue
        turns.append(Turn(message.role, message.content))
    return turns
