"""Native wire shapes. Requests forbid unknown fields and take no type coercion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from chatkeep.core.limits import CURSOR_MAX, SYSTEM_CONTEXT_MAX
from chatkeep.core.models import NAME_MAX, TITLE_MAX, USER_ID_MAX
from chatkeep.core.types import DomainRecord, MessageRecord, SessionRecord

T = TypeVar("T")

CursorParam = Annotated[
    str | None, Query(max_length=CURSOR_MAX, description="`next_cursor` of the previous page.")
]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PatchModel(RequestModel):
    """A partial update: absent fields stay as they are; explicit nulls are refused."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null; leave the field out to keep it unchanged")
        return value


class Page(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")
    has_more: bool


class SessionCreate(RequestModel):
    title: StrictStr = Field(default="", max_length=TITLE_MAX)
    domain_id: uuid.UUID | None = Field(
        default=None, description="Default: the tenant's default domain."
    )
    system_context: StrictStr = Field(default="", max_length=SYSTEM_CONTEXT_MAX)
    metadata: dict[str, Any] = Field(default_factory=dict)
    user_id: StrictStr | None = Field(
        default=None, min_length=1, max_length=USER_ID_MAX,
        description="Service credentials only: the user to create the session for.",
    )  # fmt: skip


class SessionUpdate(PatchModel):
    title: StrictStr | None = Field(default=None, max_length=TITLE_MAX)
    domain_id: uuid.UUID | None = None
    system_context: StrictStr | None = Field(default=None, max_length=SYSTEM_CONTEXT_MAX)
    is_pinned: StrictBool | None = None
    archived: StrictBool | None = None
    metadata: dict[str, Any] | None = None


class SessionOut(BaseModel):
    id: uuid.UUID
    int_id: int = Field(description="The 64-bit integer id (the AISquare dialect's `id`).")
    user_id: str
    domain_id: uuid.UUID
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

    @classmethod
    def of(cls, s: SessionRecord) -> SessionOut:
        return cls(
            id=s.uuid, int_id=s.id, user_id=s.user_id, domain_id=s.domain_id,
            domain_name=s.domain_name, title=s.title, system_context=s.system_context,
            is_pinned=s.is_pinned, pinned_at=s.pinned_at, archived=s.archived,
            created_at=s.created_at, updated_at=s.updated_at,
            last_message_at=s.last_message_at, message_count=s.message_count,
            metadata=s.metadata,
        )  # fmt: skip


class MessageCreate(RequestModel):
    role: Literal["user", "assistant", "system", "tool"]
    content: StrictStr
    metadata: dict[str, Any] = Field(default_factory=dict)


class MessageAnswer(BaseModel):
    """The answer that produced an assistant message (see the answers endpoints)."""

    id: uuid.UUID
    status: str
    references: list[dict[str, Any]]
    alternatives: list[uuid.UUID] = Field(description="Answers to the same question, latest first.")


class MessageOut(BaseModel):
    id: int
    session_id: uuid.UUID
    role: str
    content: str
    created_at: datetime
    metadata: dict[str, Any]
    answer: MessageAnswer | None = Field(
        default=None, description="Only on assistant messages an answer produced."
    )

    @classmethod
    def of(cls, m: MessageRecord, answer: dict[str, Any] | None = None) -> MessageOut:
        return cls(
            id=m.id, session_id=m.session_id, role=m.role, content=m.content,
            created_at=m.created_at, metadata=m.metadata,
            answer=MessageAnswer.model_validate(answer) if answer else None,
        )  # fmt: skip


class DomainCreate(RequestModel):
    name: StrictStr = Field(min_length=1, max_length=NAME_MAX)
    parent_id: uuid.UUID | None = None


class DomainUpdate(RequestModel):
    name: StrictStr | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    parent_id: uuid.UUID | None = Field(default=None, description="null moves it to the root.")


class DomainOut(BaseModel):
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    is_default: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, d: DomainRecord) -> DomainOut:
        return cls(
            id=d.id, name=d.name, parent_id=d.parent_id, is_default=d.is_default,
            created_at=d.created_at, updated_at=d.updated_at,
        )  # fmt: skip


class TenantOut(BaseModel):
    id: int
    name: str


class CredentialOut(BaseModel):
    id: str
    kind: Literal["user", "service"]
    scopes: list[str]
    expires_at: datetime | None


class MeOut(BaseModel):
    tenant: TenantOut
    user_id: str
    credential: CredentialOut
