"""AISquare wire shapes. Responses carry exactly the seed's fields; requests refuse
unknown fields, nulls where a value is expected, and type coercion."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from chatkeep.api.aisquare.deps import WireUUID
from chatkeep.api.native.answers import QUESTION_MAX
from chatkeep.core.answering.records import AnswerRecord
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


# The native ask's limit on a question (characters), so both dialects refuse the same text.
PROMPT_MAX = QUESTION_MAX


class StreamingChatRequest(RequestModel):
    """AISquare's ``StreamingChatRequest``, with DRF's ``CharField`` messages."""

    prompt: str = Field(
        description="The user's message.",
        json_schema_extra={"minLength": 1, "maxLength": PROMPT_MAX},
    )

    @field_validator("prompt", mode="before")
    @classmethod
    def _drf_char_field(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError("null", "This field may not be null.")
        if not isinstance(value, str):
            raise PydanticCustomError("string_type", "Not a valid string.")
        if not value.strip():
            raise PydanticCustomError("blank", "This field may not be blank.")
        if len(value) > PROMPT_MAX:
            raise PydanticCustomError(
                "max_length", f"Ensure this field has no more than {PROMPT_MAX} characters."
            )
        return value


class ChatStreamAnswer(BaseModel):
    """An answer of the chat stream as JSON (what cancelling returns)."""

    answer_id: uuid.UUID
    session_id: int = Field(description="The chat session's integer id.")
    status: str = Field(description="running | complete | cancelled | failed | incomplete")
    content: str = Field(description="The answer's text so far (all of it once finished).")
    message_id: int = Field(description="The assistant message holding the answer.")
    user_message_id: int = Field(description="The user message holding the prompt.")
    error: str | None = Field(description="Why a failed or incomplete answer stopped.")

    @classmethod
    def of(cls, answer: AnswerRecord, session_id: int) -> ChatStreamAnswer:
        return cls(
            answer_id=answer.id, session_id=session_id, status=answer.status,
            content=answer.content, message_id=answer.message_id,
            user_message_id=answer.question_message_id, error=answer.error,
        )  # fmt: skip
