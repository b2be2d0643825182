"""The prompt: instructions, the session's context, numbered passages, recent turns.

Budgets are counted in estimated tokens (no tokenizer: one per ~4 bytes of UTF-8, which
over-counts CJK a little and so errs on the short side), so the prompt fits a small
model's context whatever the provider.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from chatkeep.core.answering.ports import ChatMessage
from chatkeep.core.knowledge.retrieval import RetrievedChunk

INSTRUCTIONS = (
    "You answer the user's question using only the numbered passages below. "
    "After each statement, cite the passage it comes from as [n], e.g. [1]. "
    "If the passages do not contain the answer, say that the documents do not say, "
    "and do not invent one."
)
NO_PASSAGES = "No passage was found for this question."
_CITATION = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


@dataclass(frozen=True, slots=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


def estimate_tokens(text: str) -> int:
    return (len(text.encode()) + 3) // 4


def fit_passages(chunks: Sequence[RetrievedChunk], budget: int) -> list[RetrievedChunk]:
    """The best passages that fit the budget (a passage is cut, never dropped, when it is
    the first and alone exceeds it)."""
    kept: list[RetrievedChunk] = []
    used = 0
    for chunk in chunks:
        cost = estimate_tokens(chunk.text)
        if used + cost > budget and kept:
            break
        kept.append(chunk)
        used += cost
    return kept


def build_prompt(
    question: str,
    passages: Sequence[RetrievedChunk],
    history: Sequence[Turn],
    *,
    system_context: str,
    history_tokens: int,
    passage_tokens: int,
) -> list[ChatMessage]:
    system = [INSTRUCTIONS]
    if system_context.strip():
        system.append(system_context.strip())
    system.append(_passages_block(passages, passage_tokens))
    messages = [ChatMessage("system", "\n\n".join(system))]
    messages += [ChatMessage(t.role, t.content) for t in recent_turns(history, history_tokens)]
    messages.append(ChatMessage("user", question))
    return messages


def _passages_block(passages: Sequence[RetrievedChunk], budget: int) -> str:
    if not passages:
        return NO_PASSAGES
    lines = ["Passages:"]
    chars = budget * 4
    for n, chunk in enumerate(passages, start=1):
        where = chunk.document_name
        if chunk.page_start is not None:
            where += f", page {chunk.page_start}"
        text = chunk.text[:chars]
        chars = max(chars - len(text), 200)
        lines.append(f"[{n}] ({where})\n{text}")
    return "\n\n".join(lines)


def recent_turns(history: Sequence[Turn], budget: int) -> list[Turn]:
    """The latest turns (``history`` oldest first) that fit ``budget``, oldest first."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(history):
        cost = estimate_tokens(turn.content) + 4
        if used + cost > budget:
            break
        kept.append(turn)
        used += cost
    kept.reverse()
    return kept


def cited_numbers(text: str) -> set[int]:
    """The passage numbers an answer cites as [n] (or [n, m])."""
    found: set[int] = set()
    for match in _CITATION.finditer(text):
        found.update(int(part) for part in match.group(1).split(","))
    return found
