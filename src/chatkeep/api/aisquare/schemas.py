"""AISquare wire shapes. Responses carry exactly the seed's fields; requests refuse
unknown fields, nulls where a value is expected, and type coercion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from chatkeep.api.aisquare.deps import WireUUID
from chatkeep.core.limits import SYSTEM_CONTEXT_MAX
from chatkeep.core.models import TITLE_MAX
from chatkeep.core.types import MessageRecord, SessionRecord


class ChatSessionOut(BaseModel):
    """The seed's ``ChatSessionList`` item, field for field and in its order."""

    id: int
    system_context: str
    last_message_at: datetime = Field(
        description="The last message's time; the session's creation time before any message."
    )
    domain_id: uuid.UUID
    domain_name: str
    title: str
    is_pinned: bool

    @classmethod
    def of(cls, s: SessionRecord) -> ChatSessionOut:
        return cls(
            id=s.id, system_context=s.system_context,
            last_message_at=s.last_message_at or s.created_at,
            domain_id=s.domain_id, domain_name=s.domain_name, title=s.title,
            is_pinned=s.is_pinned,
        )  # fmt: skip


class MessageOut(BaseModel):
    id: int
    session_id: int = Field(description="The chat session's integer id.")
    role: str
    content: str
    created_at: datetime
    metadata: dict[str, Any]

    @classmethod
    def of(cls, m: MessageRecord, session_id: int) -> MessageOut:
        return cls(
            id=m.id, session_id=session_id, role=m.role, content=m.content,
            created_at=m.created_at, metadata=m.metadata,
        )  # fmt: skip


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChatSessionCreate(RequestModel):
    title: StrictStr = Field(default="", max_length=TITLE_MAX)
    domain_id: WireUUID = Field(default=None, description="Default: the tenant's default domain.")
    system_context: StrictStr = Field(default="", max_length=SYSTEM_CONTEXT_MAX)


class ChatSessionUpdate(RequestModel):
    """A partial update: absent fields stay as they are; nulls are refused."""

    title: StrictStr | None = Field(default=None, max_length=TITLE_MAX)
    system_context: StrictStr | None = Field(default=None, max_length=SYSTEM_CONTEXT_MAX)
    is_pinned: StrictBool | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null", "This field may not be null.")
        return value


class MessageCreate(RequestModel):
    role: Literal["user", "assistant", "system", "tool"]
    content: StrictStr
    metadata: dict[str, Any] = Field(default_factory=dict)
