"""Small factories: each says in the test what it sets up (tenants, users, keys, data)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chatkeep.core import access_keys, domains, sessions, tenants
from chatkeep.core.auth import authenticate_api_key
from chatkeep.core.knowledge import documents, retrieval
from chatkeep.core.knowledge.types import AddedDocument, NewDocument
from chatkeep.core.types import (
    CredentialKind,
    DomainRecord,
    NewSession,
    Principal,
    SessionRecord,
)
from chatkeep.core.uow import UnitOfWork
from chatkeep.runtime import Runtime, unit_of_work
from chatkeep.workers import ingest_pending

# Every plain key and secret the factories issue, so the suite can check at its end that
# none of them was ever logged (tests/conftest.py's session-wide log capture).
ISSUED_SECRETS: set[str] = set()


def remember_secret(secret: str) -> str:
    ISSUED_SECRETS.add(secret)
    return secret


@dataclass
class Key:
    id: uuid.UUID
    key: str
    tenant: str
    user_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class World:
    """Sets up what a test needs directly through the core, one transaction per call."""

    def __init__(self, state: Runtime) -> None:
        self.state = state

    def uow(self, *, write: bool = True) -> Any:
        return unit_of_work(self.state, write=write)

    async def tenant(self, name: str | None = None) -> str:
        name = name or f"t-{uuid.uuid4().hex[:10]}"
        async with self.uow() as uow:
            await tenants.create_tenant(uow, name)
        return name

    async def key(
        self,
        tenant: str,
        user_id: str = "alice",
        *,
        service: bool = False,
        scopes: tuple[str, ...] = ("*",),
        expires_in: timedelta | None = None,
    ) -> Key:
        async with self.uow() as uow:
            issued = await tenants.create_api_key(
                uow, tenant, user_id,
                kind=CredentialKind.SERVICE if service else CredentialKind.USER,
                scopes=scopes, expires_in=expires_in,
            )  # fmt: skip
        return Key(issued.id, remember_secret(issued.key), tenant, user_id)

    async def access_key(
        self,
        tenant: str,
        user_id: str = "alice",
        *,
        service: bool = False,
        scopes: tuple[str, ...] = (),
    ) -> access_keys.IssuedAccessKey:
        """An access-key pair (all scopes unless given); its secret joins ISSUED_SECRETS."""
        async with self.uow() as uow:
            issued = await access_keys.create_access_key(
                uow, tenant, user_id,
                kind=CredentialKind.SERVICE if service else CredentialKind.USER, scopes=scopes,
            )  # fmt: skip
        remember_secret(issued.access_key_secret)
        return issued

    async def principal(self, key: Key) -> Principal:
        async with self.uow(write=False) as uow:
            return await authenticate_api_key(uow, key.key)

    async def domain(self, tenant: str, name: str, parent: uuid.UUID | None = None) -> DomainRecord:
        async with self.uow() as uow:
            operator = tenants.operator_principal(await tenants.tenant_named(uow, tenant))
            return await domains.create_domain(uow, operator, name, parent)

    async def session(self, key: Key, **fields: Any) -> SessionRecord:
        principal = await self.principal(key)
        async with self.uow() as uow:
            return await sessions.create_session(uow, principal, NewSession(**fields))

    async def document(
        self,
        key: Key,
        domain_id: uuid.UUID,
        name: str,
        data: bytes,
        content_type: str | None = None,
    ) -> AddedDocument:
        principal = await self.principal(key)
        new = NewDocument(name=name, data=data, declared_type=content_type)
        async with self.uow() as uow:
            return await documents.add_document(
                uow, principal, domain_id, new, self.state.settings.documents_max_bytes
            )

    async def ingest(self) -> int:
        """Run the worker's job step until no job is due: ingestion without waiting."""
        return await ingest_pending(self.state)

    async def retrieve(self, key: Key, text: str, **scope: Any) -> list[retrieval.RetrievedChunk]:
        principal = await self.principal(key)
        async with self.uow(write=False) as uow:
            return await retrieval.retrieve(
                uow, principal, retrieval.RetrievalQuery(text=text, **scope)
            )

    async def run(self, work: Any, *, write: bool = True) -> Any:
        """Run ``work(uow)`` in one transaction and return its result."""
        uow: UnitOfWork
        async with self.uow(write=write) as uow:
            return await work(uow)
