"""Reading AISquare chat-stream frames off a real HTTP response, and asking for them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.factories import Key

STREAM = "/api/v1/qllm/chat-stream"


@dataclass
class Frame:
    data: dict[str, Any]
    id: int | None
    lines: list[str]  # the frame's field lines as sent

    @property
    def type(self) -> str:
        return str(self.data["type"])


class FrameReader:
    """Reads one chat-stream response incrementally; counts ``:`` keep-alive comments."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.pings = 0

    async def read(self, *, stop_after: str | None = None, pings: int | None = None) -> list[Frame]:
        """Frames until the stream ends, a frame of type ``stop_after``, or ``pings`` more
        keep-alive comments."""
        found: list[Frame] = []
        lines: list[str] = []
        wanted = None if pings is None else self.pings + pings
        async for line in self._lines:
            if line.startswith(":"):
                self.pings += 1
                if wanted is not None and self.pings >= wanted:
                    break
                continue
            if line:
                lines.append(line)
                continue
            if lines:
                found.append(_frame(lines))
                lines = []
                if stop_after is not None and found[-1].type == stop_after:
                    break
        return found


def _frame(lines: list[str]) -> Frame:
    fields = dict(line.partition(": ")[::2] for line in lines)
    event_id = int(fields["id"]) if "id" in fields else None
    return Frame(json.loads(fields["data"]), event_id, lines)


async def read_frames(response: httpx.Response) -> list[Frame]:
    return await FrameReader(response).read()


def types(frames: list[Frame]) -> list[str]:
    return [f.type for f in frames]


def tokens(frames: list[Frame]) -> str:
    return "".join(f.data["content"] for f in frames if f.type == "token")


def by_type(frames: list[Frame], kind: str) -> dict[str, Any]:
    [found] = [f.data for f in frames if f.type == kind]
    return found


def ask(client: httpx.AsyncClient, key: Key, session_id: int, prompt: str, **headers: str) -> Any:
    """``client.stream(...)`` of one chat-stream POST (use as an async context manager)."""
    return client.stream(
        "POST", f"{STREAM}/{session_id}/", headers={**key.headers, **headers},
        json={"prompt": prompt},
    )  # fmt: skip
