"""The answer area's values: what callers ask for and what they get back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from chatkeep.settings import Settings

TERMINAL_EVENTS = frozenset({"done", "error"})


@dataclass(frozen=True, slots=True)
class AskRequest:
    session_id: UUID
    question: str
    document_ids: Sequence[UUID] | None = None
    idempotency_key: str | None = None
    user_id: str | None = None  # service credentials: whose session


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    id: UUID
    session_id: UUID
    question_message_id: int
    message_id: int
    status: str
    content: str
    references: list[dict[str, Any]]
    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    alternatives: list[UUID] = field(default_factory=list)  # same question, latest first
    timings: dict[str, Any] = field(default_factory=dict)
    last_event_id: int = 0

    @property
    def running(self) -> bool:
        return self.status == "running"


@dataclass(frozen=True, slots=True)
class AnswerEvent:
    id: int  # 1, 2, 3... per answer
    type: str  # question | references | delta | done | error
    data: str  # one line of JSON

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_EVENTS


@dataclass(frozen=True, slots=True)
class AnswerConfig:
    """The answer lifecycle's knobs (Settings ``answer_*``), in the core's own terms."""

    top_k: int = 5
    passage_tokens: int = 1200
    history_tokens: int = 600
    require_passages: bool = True
    no_passage_text: str = "I could not find anything about this in the documents."
    max_running_per_credential: int = 4
    lease_seconds: float = 20
    heartbeat_seconds: float = 2
    flush_seconds: float = 0.1
    flush_chars: int = 400
    poll_seconds: float = 0.25

    @classmethod
    def of(cls, s: Settings) -> AnswerConfig:
        return cls(
            top_k=s.answer_top_k, passage_tokens=s.answer_passage_tokens,
            history_tokens=s.answer_history_tokens, require_passages=s.answer_require_passages,
            no_passage_text=s.answer_no_passage_text,
            max_running_per_credential=s.answer_max_running_per_credential,
            lease_seconds=s.answer_lease_seconds, heartbeat_seconds=s.answer_heartbeat_seconds,
            flush_seconds=s.answer_flush_seconds, flush_chars=s.answer_flush_chars,
            poll_seconds=s.answer_poll_seconds,
        )  # fmt: skip
