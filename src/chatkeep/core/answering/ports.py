"""What the answer service needs from the outside world, as protocols only.

No vendor or HTTP import here: providers/ implements ``LLM``; the knowledge area provides
the ``Retriever`` (``chatkeep.core.knowledge.retrieval.retrieve`` has exactly this shape).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from chatkeep.core.knowledge.retrieval import RetrievalQuery, RetrievedChunk
from chatkeep.core.types import Principal
from chatkeep.core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Text the model appended to its answer."""

    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    """The stream's last item: what the provider reported about the whole answer."""

    model: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    finish_reason: str | None


LLMEvent = TextDelta | Finished


class LLM(Protocol):
    """Streams an answer to a chat; failures raise ``core.errors.ProviderError``."""

    @property
    def model(self) -> str: ...

    def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[LLMEvent]: ...


class Retriever(Protocol):
    async def __call__(
        self, uow: UnitOfWork, principal: Principal, query: RetrievalQuery
    ) -> list[RetrievedChunk]: ...


class UnitsOfWork(Protocol):
    """Opens one short transaction (``chatkeep.runtime.unit_of_work`` bound to a runtime)."""

    def __call__(self, *, write: bool) -> AbstractAsyncContextManager[UnitOfWork]: ...
