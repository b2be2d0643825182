"""`chatkeep document add|list` and `chatkeep worker` (registered by cli.py)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from chatkeep import cli_support as cli
from chatkeep.core import tenants
from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge import documents
from chatkeep.core.knowledge.types import DocumentListQuery, DocumentRecord, NewDocument
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.types import Principal
from chatkeep.core.uow import UnitOfWork
from chatkeep.runtime import Runtime, unit_of_work


@click.group()
def document() -> None:
    """Documents in a domain (upload, list)."""


@document.command("add")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--domain", "domain_ref", required=True, help="The domain's id or its name.")
@click.option("--wait", is_flag=True, help="Ingest here and now, then report the result.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def document_add(
    tenant_name: str, domain_ref: str, wait: bool, files: tuple[str, ...], as_json: bool
) -> None:
    """Add FILE... to a domain (the same bytes twice are stored once)."""
    runtime = Runtime.build(cli.load_settings())
    results = cli.run(_add_all(runtime, tenant_name, domain_ref, [Path(f) for f in files], wait))
    payload = {"documents": [_payload(r, created) | {"file": f} for f, r, created in results]}
    human = "\n".join(
        f"{'added' if created else 'exists'} {r.name} ({r.id}, #{r.number}): {r.status}"
        + (f" - {r.error}" if r.error else "")
        for _f, r, created in results
    )
    cli.emit(as_json, payload, human)


@document.command("list")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--domain", "domain_ref", required=True, help="The domain's id or its name.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def document_list(tenant_name: str, domain_ref: str, as_json: bool) -> None:
    """A domain's documents, oldest first (the first 100)."""

    async def work(uow: UnitOfWork) -> list[DocumentRecord]:
        operator = await _operator(uow, tenant_name)
        domain_id = await _domain_id(uow, operator, domain_ref)
        query = DocumentListQuery(domain_id=domain_id, limit=100)
        return (await documents.list_documents(uow, operator, query)).items

    found = cli.run_in_transaction(work)
    human = "\n".join(f"{d.id}  #{d.number}  {d.status:8} {d.name}" for d in found)
    cli.emit(as_json, {"data": [_payload(d, None) for d in found]}, human or "no documents")


@click.command()
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 64))
def worker(concurrency: int) -> None:
    """Run ingestion workers until stopped (as many processes and hosts as needed)."""
    settings = cli.load_settings()
    cli.migrate_schema(settings)
    click.echo(f"ingestion: {concurrency} worker(s) running; Ctrl-C to stop", err=True)
    cli.run(_work_until_signalled(Runtime.build(settings), concurrency))


async def _work_until_signalled(runtime: Runtime, concurrency: int) -> None:
    from chatkeep.workers import ingestion_workers

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with ingestion_workers(runtime, concurrency):
            await stop.wait()
    finally:
        await runtime.engine.dispose()


async def _add_all(
    runtime: Runtime, tenant_name: str, domain_ref: str, paths: list[Path], wait: bool
) -> list[tuple[str, DocumentRecord, bool]]:
    from chatkeep.workers import ingest_pending

    max_bytes = runtime.settings.documents_max_bytes
    results = []
    try:
        for path in tqdm(paths, unit="file", disable=len(paths) < 2):
            new = NewDocument(name=path.name, data=path.read_bytes())
            documents.check_upload(new, max_bytes)  # before any transaction
            async with unit_of_work(runtime, write=True) as uow:
                operator = await _operator(uow, tenant_name)
                domain_id = await _domain_id(uow, operator, domain_ref)
                added = await documents.add_document(uow, operator, domain_id, new, max_bytes)
            results.append((str(path), added.document, added.created))
        if wait:
            await ingest_pending(runtime)
            results = [(f, await _reread(runtime, tenant_name, r), c) for f, r, c in results]
    finally:
        await runtime.engine.dispose()
    return results


async def _reread(runtime: Runtime, tenant_name: str, record: DocumentRecord) -> DocumentRecord:
    async with unit_of_work(runtime, write=False) as uow:
        return await documents.get_document(uow, await _operator(uow, tenant_name), record.id)


async def _operator(uow: UnitOfWork, tenant_name: str) -> Principal:
    return tenants.operator_principal(await tenants.tenant_named(uow, tenant_name))


async def _domain_id(uow: UnitOfWork, operator: Principal, ref: str) -> uuid.UUID:
    try:
        return uuid.UUID(ref)
    except ValueError:
        pass
    named = [d for d in await domain_rows.all_domains(uow.db, operator.tenant_id) if d.name == ref]
    if len(named) != 1:
        raise NotFound(f"domain {ref!r}" if not named else f"a unique domain named {ref!r}")
    return named[0].id


def _payload(d: DocumentRecord, created: bool | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": str(d.id), "number": d.number, "domain_id": str(d.domain_id), "name": d.name,
        "content_type": d.content_type, "size_bytes": d.size_bytes, "status": d.status,
        "error": d.error, "pages": d.pages, "chunks": d.chunks,
    }  # fmt: skip
    if created is not None:
        out["created"] = created
    return out
