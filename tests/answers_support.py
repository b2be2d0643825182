"""What the answer tests share: a scripted OpenAI-compatible server, a small in-test
retriever, and real uvicorn servers (one per "worker") over the test's database.

The scripted provider is a real HTTP server in a thread that speaks OpenAI's streaming
SSE; it pauses at a gate (a threading.Event) where a test needs the answer to be
mid-stream, so no test depends on timing luck.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from chatkeep.app import create_app
from chatkeep.core.errors import NotFound
from chatkeep.core.knowledge.retrieval import RetrievalQuery, RetrievedChunk
from chatkeep.core.types import Principal
from chatkeep.core.uow import UnitOfWork
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings

PORTS = range(8800, 8900)


def free_port() -> int:
    """A free loopback port in the range tests may use (8800-8899)."""
    for port in random.sample(PORTS, len(PORTS)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8800-8899")


# --- the scripted provider ----------------------------------------------------------------


@dataclass
class Script:
    """What the provider does with the next requests."""

    tokens: list[str] = field(default_factory=lambda: ["Paris ", "is ", "the ", "capital [1]."])
    mode: str = "ok"  # ok | http429 | http500 | garbage | slow | truncated
    delay: float = 0.0  # seconds between tokens
    hold_after: int | None = None  # pause after this many tokens until `gate` is set
    gate: threading.Event = field(default_factory=threading.Event)
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)  # set once paused


def _chunk(content: str | None = None, finish: str | None = None, usage: Any = None) -> bytes:
    body: dict[str, Any] = {
        "id": "chatcmpl-test", "object": "chat.completion.chunk", "model": "scripted-model",
        "choices": [] if usage else [
            {"index": 0, "delta": {} if content is None else {"content": content},
             "finish_reason": finish}
        ],
    }  # fmt: skip
    if usage:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class _Handler(BaseHTTPRequestHandler):
    script: Script
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.script.requests.append(json.loads(self.rfile.read(length)))
        self.script.authorization.append(self.headers.get("Authorization"))
        mode = self.script.mode
        if mode in ("http429", "http500"):
            status = 429 if mode == "http429" else 500
            payload = b'{"error": {"message": "scripted failure"}}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._stream(mode)

    def _stream(self, mode: str) -> None:
        if mode == "slow":
            time.sleep(3)  # longer than the tests' first-token timeout
            return
        if mode == "garbage":
            self.wfile.write(b"data: this is not json\n\n")
            self.wfile.flush()
            return
        for n, token in enumerate(self.script.tokens):
            if self.script.hold_after is not None and n == self.script.hold_after:
                self.script.held.set()
                self.script.gate.wait(60)
            self.wfile.write(_chunk(token))
            self.wfile.flush()
            if self.script.delay:
                time.sleep(self.script.delay)
        if mode == "truncated":
            return
        self.wfile.write(_chunk(finish="stop"))
        self.wfile.write(_chunk(usage={"prompt_tokens": 42, "completion_tokens": 4}))
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@contextlib.contextmanager
def scripted_provider(script: Script) -> Iterator[str]:
    """Serve ``script`` on a loopback port; yields the ``/v1`` base URL."""
    handler = type("Handler", (_Handler,), {"script": script})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        script.gate.set()  # release a paused stream so its thread can end
        server.shutdown()
        server.server_close()


# --- the in-test retriever ----------------------------------------------------------------


@dataclass
class Library:
    """Passages per domain, retrieved by shared words (the knowledge area's stand-in)."""

    passages: dict[uuid.UUID, list[RetrievedChunk]] = field(default_factory=dict)
    queries: list[RetrievalQuery] = field(default_factory=list)

    def add(self, domain_id: uuid.UUID, name: str, text: str, page: int | None = 1) -> uuid.UUID:
        doc = uuid.uuid4()
        self.passages.setdefault(domain_id, []).append(RetrievedChunk(
            chunk_id=uuid.uuid4(), document_id=doc, document_number=len(self.passages) + 1,
            document_name=name, text=text, snippet=text[:40], score=0.0, page_start=page,
            page_end=page, char_start=0, char_end=len(text), heading_path=[name],
        ))  # fmt: skip
        return doc

    async def __call__(
        self, uow: UnitOfWork, principal: Principal, query: RetrievalQuery
    ) -> list[RetrievedChunk]:
        self.queries.append(query)
        chunks = [c for cs in self.passages.values() for c in cs]
        if query.document_ids:
            chunks = [c for c in chunks if c.document_id in query.document_ids]
            if {c.document_id for c in chunks} != set(query.document_ids):
                raise NotFound("document")
        else:
            chunks = list(self.passages.get(query.domain_id or uuid.UUID(int=0), []))
        words = set(query.text.lower().split())
        scored = [(len(words & set(c.text.lower().split())), c) for c in chunks]
        hits = [(s, c) for s, c in scored if s > 0]
        hits.sort(key=lambda sc: -sc[0])
        return [_with_score(c, float(s)) for s, c in hits[: query.top_k]]


def _with_score(chunk: RetrievedChunk, score: float) -> RetrievedChunk:
    from dataclasses import replace

    return replace(chunk, score=score)


# --- real servers ("workers") over one database --------------------------------------------


def answer_settings(settings: Settings, base_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "llm_base_url": base_url, "llm_first_token_timeout_seconds": 1.5,
        "llm_answer_timeout_seconds": 30, "answer_heartbeat_seconds": 0.2,
        "answer_lease_seconds": 5, "answer_poll_seconds": 0.05, "answer_ping_seconds": 0.5,
        "access_log": False,
    }  # fmt: skip
    values.update(overrides)
    return settings.model_copy(update=values)


@dataclass
class Worker:
    app: FastAPI
    url: str

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.chatkeep
        return runtime

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30)


@contextlib.asynccontextmanager
async def worker(settings: Settings, library: Library) -> AsyncIterator[Worker]:
    """The app under a real uvicorn server in this event loop (real streaming)."""
    app = create_app(settings, retriever=library)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=2,
    )  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield Worker(app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await task
        await app.state.chatkeep.engine.dispose()


# --- reading SSE ------------------------------------------------------------------------------


@dataclass
class Event:
    id: int
    type: str
    data: dict[str, Any]


class EventReader:
    """Reads one SSE response incrementally (one line iterator for the whole response)."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()
        self.pings = 0

    async def read(self, *, stop_after: str | None = None, pings: int | None = None) -> list[Event]:
        """Events until the stream ends, an event of type ``stop_after``, or ``pings`` more
        keep-alive comments."""
        found: list[Event] = []
        fields: dict[str, str] = {}
        wanted = None if pings is None else self.pings + pings
        async for line in self._lines:
            if line.startswith(":"):
                self.pings += 1
                if wanted is not None and self.pings >= wanted:
                    break
                continue
            if line:
                name, _, value = line.partition(": ")
                fields[name] = value
                continue
            if fields:
                found.append(Event(int(fields["id"]), fields["event"], json.loads(fields["data"])))
                fields = {}
                if stop_after is not None and found[-1].type == stop_after:
                    break
        return found


async def read_events(response: httpx.Response) -> list[Event]:
    return await EventReader(response).read()


def text_of(events: list[Event]) -> str:
    return "".join(e.data["text"] for e in events if e.type == "delta")
