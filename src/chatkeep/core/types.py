"""Values that cross the core's boundary: who is calling, what they ask, what they get."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

T = TypeVar("T")


class Scope(enum.StrEnum):
    SESSIONS_READ = "sessions:read"
    SESSIONS_WRITE = "sessions:write"
    MESSAGES_READ = "messages:read"
    MESSAGES_WRITE = "messages:write"
    DOMAINS_READ = "domains:read"
    DOMAINS_WRITE = "domains:write"
    DOCUMENTS_READ = "documents:read"  # list, read and retrieve from documents
    DOCUMENTS_WRITE = "documents:write"  # upload and delete documents
    ALL = "*"


class CredentialKind(enum.StrEnum):
    USER = "user"  # acts for its own user only
    SERVICE = "service"  # acts for any user of its tenant, within its scopes


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a tenant, the credential's own user, and what it may do.

    Every credential form (API key, access-key signature, ...) authenticates to one of
    these; the services decide everything else from it.
    """

    tenant_id: int
    tenant_name: str
    user_pk: int
    user_id: str
    kind: CredentialKind
    scopes: frozenset[str]
    credential_id: str
    credential_expires_at: datetime | None = None

    def has_scope(self, scope: Scope) -> bool:
        return Scope.ALL in self.scopes or scope in self.scopes


@dataclass(frozen=True, slots=True)
class Subject:
    """The user a request acts on, resolved from the principal and an optional user_id."""

    tenant_id: int
    user_pk: int | None  # None: a user a service names who has never been seen (no data)
    user_id: str


class SessionOrder(enum.StrEnum):
    RECENT = "recent"  # pinned first (by pinned_at), then latest activity, then id
    CREATED = "created"
    CREATED_DESC = "-created"
    TITLE = "title"
    UPDATED_DESC = "-updated"  # most recently changed first (Alibaba's list order)


@dataclass(frozen=True, slots=True)
class SessionFilter:
    user_id: str | None = None
    domain_id: UUID | None = None
    q: str | None = None
    pinned: bool | None = None
    archived: bool | None = False  # None: both archived and active


@dataclass(frozen=True, slots=True)
class SessionListQuery:
    filter: SessionFilter = field(default_factory=SessionFilter)
    order: SessionOrder = SessionOrder.RECENT
    limit: int = 20
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class MessageListQuery:
    session_id: UUID
    user_id: str | None = None
    newest_first: bool = False
    limit: int = 50
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class DomainListQuery:
    parent_id: UUID | None = None
    roots_only: bool = False
    limit: int = 100
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True, slots=True)
class OffsetPage(Generic[T]):
    """A page found by position (page-numbered wire formats), with the list's total."""

    items: list[T]
    total: int


@dataclass(frozen=True, slots=True)
class DomainRecord:
    id: UUID
    name: str
    parent_id: UUID | None
    is_default: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session as every interface shows it; built without reading any message body."""

    id: int
    uuid: UUID
    owner_pk: int  # the owner's internal key (shard key with the tenant); never rendered
    user_id: str
    domain_id: UUID
    domain_name: str
    title: str
    system_context: str
    is_pinned: bool
    pinned_at: datetime | None
    archived: bool
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime | None
    message_count: int
    metadata: dict[str, Any]
    qa_pair_count: int = 0  # AI-doc Q&A pairs (see repository/counters.py)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    id: int
    session_id: UUID
    role: str
    content: str
    created_at: datetime
    metadata: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewSession:
    title: str = ""
    domain_id: UUID | None = None  # None: the tenant's default domain
    system_context: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    user_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionChanges:
    """A partial update: fields left as None stay as they are."""

    title: str | None = None
    domain_id: UUID | None = None
    system_context: str | None = None
    is_pinned: bool | None = None
    archived: bool | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class NewMessage:
    role: str
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class AppendResult:
    message: MessageRecord
    replayed: bool  # True: an earlier request with the same idempotency key made it


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET = _Unset.UNSET


@dataclass(frozen=True, slots=True)
class DomainChanges:
    name: str | None = None
    # UNSET leaves the parent alone; None moves the domain to the root.
    parent_id: UUID | _Unset | None = UNSET
