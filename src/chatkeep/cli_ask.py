"""``chatkeep ask``: ask a question in a session from the terminal, the answer streamed.

Runs the same answer engine as the server, in this process (starting the embedded model
here too when no provider is configured), so it works with no server running.
"""

from __future__ import annotations

import uuid

import click
import orjson

from chatkeep.cli_support import CommandFailed, emit, load_settings, run
from chatkeep.core.answering.events import answer_json
from chatkeep.core.answering.records import AnswerRecord, AskRequest
from chatkeep.core.tenants import operator_as_user
from chatkeep.providers.local_llama import LocalModelUnavailable, ensure_llm_base_url
from chatkeep.runtime import Runtime, build_answer_engine, unit_of_work
from chatkeep.settings import Settings


@click.command("ask")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--user", "user_id", required=True, help="Whose session it is.")
@click.option("--document", "document_ids", multiple=True, type=click.UUID,
              help="Repeatable: answer from exactly these documents.")  # fmt: skip
@click.argument("session_id", type=click.UUID)
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as one JSON object.")
def ask(
    tenant_name: str,
    user_id: str,
    document_ids: tuple[uuid.UUID, ...],
    session_id: uuid.UUID,
    question: str,
    as_json: bool,
) -> None:
    """Ask QUESTION in session SESSION_ID; print the answer as it is generated."""
    try:
        settings = ensure_llm_base_url(load_settings())
    except LocalModelUnavailable as exc:
        raise CommandFailed(f"no LLM: {exc}; set CHATKEEP_LLM_BASE_URL") from None
    request = AskRequest(session_id=session_id, question=question,
                         document_ids=list(document_ids) or None)  # fmt: skip
    answer = run(_ask(settings, tenant_name, user_id, request, echo=not as_json))
    if answer.status not in ("complete", "cancelled"):
        raise CommandFailed(f"the answer {answer.status}: {answer.error}")
    cited = [r for r in answer.references if r.get("cited")]
    sources = "\n".join(f"[{r['n']}] {r['document_name']}" for r in cited)
    emit(as_json, answer_json(answer), f"\n{sources}" if sources else "")


async def _ask(
    settings: Settings, tenant_name: str, user_id: str, request: AskRequest, *, echo: bool
) -> AnswerRecord:
    runtime = Runtime.build(settings)
    engine = build_answer_engine(runtime)
    try:
        async with unit_of_work(runtime, write=True) as uow:
            principal = await operator_as_user(uow, tenant_name, user_id)
        opened = await engine.ask(principal, request)
        async for event in engine.tail_events(principal.tenant_id, opened.id, 0):
            if echo and event.type == "delta":
                click.echo(orjson.loads(event.data)["text"], nl=False)
        return await engine.get(principal, opened.id)
    finally:
        await engine.stop()
        await runtime.engine.dispose()
