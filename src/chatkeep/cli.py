"""The ``chatkeep`` command: serve, migrate, administer, seed a demo.

Every command that creates something takes ``--json`` and then prints exactly one JSON
object on stdout, so scripts and tests can drive it. Failures are one line on stderr and
a non-zero exit, never a traceback.
"""

from __future__ import annotations

import errno
import socket
import sys
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import click

from chatkeep.bench.command import bench as bench_command
from chatkeep.bench.knowledge_command import bench_knowledge as bench_knowledge_command
from chatkeep.cli_ask import ask as ask_command
from chatkeep.cli_support import (
    CommandFailed,
    emit,
    load_settings,
    migrate_schema,
    run_in_transaction,
)
from chatkeep.core import tenants
from chatkeep.core.types import CredentialKind
from chatkeep.core.uow import UnitOfWork
from chatkeep.document_cli import document as document_command
from chatkeep.document_cli import worker as worker_command
from chatkeep.settings import Settings

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def credential_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Whose credential, of which kind, with which scopes: shared by every credential form."""
    for option in reversed([
        click.option("--tenant", "tenant_name", required=True),
        click.option("--user", "user_id", required=True),
        click.option("--service", is_flag=True, help="May act for any user of the tenant."),
        click.option(
            "--scope", "scopes", multiple=True, help="Repeatable; default: all scopes (*)."
        ),
    ]):  # fmt: skip
        command = option(command)
    return command


@click.group()
def main() -> None:
    """chatkeep: chat sessions for LLM question-answering apps."""


@main.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    migrate_schema(load_settings())
    click.echo("database is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Migrate if needed, then serve the HTTP API."""
    import uvicorn

    settings = load_settings()
    _check_port_free(host, port)
    migrate_schema(settings)
    _start_embedded_llm(settings)
    uvicorn.run(
        "chatkeep.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=False,
        # Slow clients (README "Security and limits"): idle keep-alive connections close
        # after this; past max_connections a worker answers 503 instead of queueing.
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
        access_log=not settings.access_log,  # chatkeep's JSON line replaces uvicorn's
        # uvicorn restarts a worker not ready within this many seconds (default 5): on a
        # busy host, importing the app alone can take that long, and workers then flap.
        timeout_worker_healthcheck=60,
    )


def _start_embedded_llm(settings: Settings) -> None:
    """With no LLM provider configured, serve the bundled model (workers inherit its URL)."""
    from chatkeep.providers.local_llama import LocalModelUnavailable, ensure_llm_base_url

    try:
        ensure_llm_base_url(settings)
    except LocalModelUnavailable as exc:  # the API still serves; answers fail with a reason
        click.echo(f"warning: no embedded model ({exc}); set CHATKEEP_LLM_BASE_URL", err=True)


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "port already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise CommandFailed(f"cannot listen on {host}:{port}: {reason}") from None


@main.group()
def tenant() -> None:
    """Tenants (one app or organisation each)."""


@tenant.command("create")
@click.argument("name")
@json_option
def tenant_create(name: str, as_json: bool) -> None:
    created = run_in_transaction(lambda uow: tenants.create_tenant(uow, name))
    emit(as_json, {"name": created.name, "id": created.id}, f"created tenant {created.name}")


@main.group()
def user() -> None:
    """End users of a tenant's app."""


@user.command("create")
@click.option("--tenant", "tenant_name", required=True)
@click.argument("user_id")
@json_option
def user_create(tenant_name: str, user_id: str, as_json: bool) -> None:
    run_in_transaction(lambda uow: tenants.create_user(uow, tenant_name, user_id))
    emit(as_json, {"tenant": tenant_name, "user_id": user_id}, f"user {user_id} is ready")


@main.group()
def domain() -> None:
    """Knowledge domains (Alibaba: folders)."""


@domain.command("create")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--parent", "parent_id", type=click.UUID, default=None)
@click.argument("domain_name")
@json_option
def domain_create(
    tenant_name: str, parent_id: uuid.UUID | None, domain_name: str, as_json: bool
) -> None:
    from chatkeep.core import domains

    async def work(uow: UnitOfWork) -> Any:
        operator = tenants.operator_principal(await tenants.tenant_named(uow, tenant_name))
        return await domains.create_domain(uow, operator, domain_name, parent_id)

    created = run_in_transaction(work)
    payload = {
        "id": str(created.id),
        "name": created.name,
        "parent_id": str(created.parent_id) if created.parent_id else None,
    }
    emit(as_json, payload, f"created domain {created.name} ({created.id})")


@main.group()
def key() -> None:
    """API keys (Authorization: Bearer ck_...)."""


@key.command("create")
@credential_options
@click.option("--expires-in", type=click.FloatRange(min=0, min_open=True), help="Days.")
@json_option
def key_create(
    tenant_name: str,
    user_id: str,
    service: bool,
    scopes: tuple[str, ...],
    expires_in: float | None,
    as_json: bool,
) -> None:
    issued = run_in_transaction(
        lambda uow: tenants.create_api_key(
            uow,
            tenant_name,
            user_id,
            kind=CredentialKind.SERVICE if service else CredentialKind.USER,
            scopes=scopes,
            expires_in=timedelta(days=expires_in) if expires_in else None,
        )
    )
    payload = {
        "id": str(issued.id),
        "key": issued.key,
        "kind": issued.kind.value,
        "scopes": issued.scopes,
        "expires_at": issued.expires_at.isoformat() if issued.expires_at else None,
    }
    emit(as_json, payload, f"{issued.key}\n(key id {issued.id}; shown once, store it now)")


@key.command("revoke")
@click.argument("key_id", type=click.UUID)
def key_revoke(key_id: uuid.UUID) -> None:
    run_in_transaction(lambda uow: tenants.revoke_api_key(uow, key_id))
    click.echo(f"revoked key {key_id}")


@main.group("access-key")
def access_key() -> None:
    """Access-key pairs for Alibaba V3 signatures (ACS3-HMAC-SHA256)."""


@access_key.command("create")
@credential_options
@json_option
def access_key_create(
    tenant_name: str, user_id: str, service: bool, scopes: tuple[str, ...], as_json: bool
) -> None:
    from chatkeep.core import access_keys

    issued = run_in_transaction(
        lambda uow: access_keys.create_access_key(
            uow,
            tenant_name,
            user_id,
            kind=CredentialKind.SERVICE if service else CredentialKind.USER,
            scopes=scopes,
        )
    )
    payload = {
        "accessKeyId": issued.access_key_id,
        "accessKeySecret": issued.access_key_secret,
        "kind": issued.kind.value,
        "scopes": issued.scopes,
    }
    human = (
        f"AccessKeyId:     {issued.access_key_id}\n"
        f"AccessKeySecret: {issued.access_key_secret}\n(the secret is shown once; store it now)"
    )
    emit(as_json, payload, human)


@access_key.command("revoke")
@click.argument("access_key_id")
def access_key_revoke(access_key_id: str) -> None:
    from chatkeep.core import access_keys

    run_in_transaction(lambda uow: access_keys.revoke_access_key(uow, access_key_id))
    click.echo(f"revoked access key {access_key_id}")


@main.command("login-link")
@click.option("--tenant", "tenant_name", required=True)
@click.option("--user", "user_id", required=True)
@click.option("--base-url", default=None, help="Default: CHATKEEP_WEB_BASE_URL.")
@json_option
def login_link(tenant_name: str, user_id: str, base_url: str | None, as_json: bool) -> None:
    """A one-time, short-lived link that signs a browser in to the web UI as USER."""
    settings = load_settings()
    payload = _issue_login_link(settings, tenant_name, user_id, base_url or settings.web_base_url)
    emit(as_json, payload, f"{payload['url']}\n(works once, until {payload['expires_at']})")


def _issue_login_link(
    settings: Settings, tenant_name: str, user_id: str, base_url: str
) -> dict[str, Any]:
    from chatkeep.core.web_sessions import issue_login_token

    ttl = timedelta(minutes=settings.web_login_link_minutes)
    issued = run_in_transaction(lambda uow: issue_login_token(uow, tenant_name, user_id, ttl=ttl))
    # The token rides in the fragment: browsers never send it to the server in a URL, so
    # it stays out of access logs and Referer headers; the page posts it to /web/login.
    return {
        "url": f"{base_url.rstrip('/')}/#login={issued.token}",
        "tenant": issued.tenant,
        "user_id": issued.user_id,
        "expires_at": issued.expires_at.isoformat(),
    }


@main.command()
@click.option("--host", default="127.0.0.1", help="Used only in the printed link and curl line.")
@click.option("--port", default=8000, type=int, help="Used only in the printed link and curl line.")
@json_option
def demo(host: str, port: int, as_json: bool) -> None:
    """Seed (idempotently) a demo tenant; print a sign-in link and a fresh key for its user."""
    from chatkeep.demo import seed_demo

    settings = load_settings()
    migrate_schema(settings)
    result = run_in_transaction(seed_demo)
    base, auth = f"http://{host}:{port}", f"-H 'Authorization: Bearer {result.key}'"
    link = _issue_login_link(settings, result.tenant, result.user_id, base)["url"]
    curl = f"curl -s {auth} {base}/v1/sessions"
    retrieve = (
        f"curl -s {auth} -H 'Content-Type: application/json' {base}/v1/retrieve "
        """-d '{"query": "How do I rotate an API key?"}'"""
    )
    payload = {
        "tenant": result.tenant, "user_id": result.user_id, "key": result.key,
        "curl": curl, "retrieve": retrieve, "login_url": link,
    }  # fmt: skip
    human = (
        f"demo tenant {result.tenant!r}, user {result.user_id!r}"
        f"{' (seeded now)' if result.seeded else ''}\n"
        f"open the web UI (signed in as {result.user_id}; the link works once):\n  {link}\n"
        f"demo key: {result.key}\ntry:      {curl}\nretrieve: {retrieve}"
    )
    emit(as_json, payload, human)


main.add_command(bench_command)
main.add_command(bench_knowledge_command)
main.add_command(document_command)
main.add_command(worker_command)
main.add_command(ask_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
