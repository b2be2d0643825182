"""The load generator: a separate process driving HTTP/1.1 keep-alive connections.

``python -m chatkeep.bench.loadgen`` reads a JSON ``LoadSpec`` on stdin and prints one
JSON result. Each of ``concurrency`` connections sends a request, waits for the whole
response, and sends the next (closed loop), for ``warmup`` seconds unrecorded and then
``duration`` seconds recorded. It runs on uvloop with httptools' C parser so that it can
drive far more requests than the server under test; ``--constant-server PORT`` starts the
trivial server its own ceiling is measured against (see docs/benchmark.md).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any, cast

import httptools
import uvloop

from chatkeep.bench.procstat import ProcessSampler
from chatkeep.bench.stats import latency_summary


@dataclass(frozen=True, slots=True)
class WireRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    kind: str = "request"  # latencies are summarised per kind (e.g. create vs append)

    @property
    def all_headers(self) -> dict[str, str]:
        """The headers as sent, for clients other than this one (captures, SQL floor)."""
        if self.body is None:
            return dict(self.headers)
        return {**self.headers, "Content-Type": "application/json"}

    def encode(self, host: str, path: str | None = None) -> bytes:
        body = (self.body or "").encode()
        lines = [f"{self.method} {path or self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True, slots=True)
class LoadSpec:
    host: str
    port: int
    concurrency: int
    warmup: float
    duration: float
    requests: list[WireRequest]  # each connection cycles through these
    server_pid: int | None = None
    # Writes: requests come in (create, append) pairs, connection k using pair k (mod the
    # pairs): it creates a session (a native POST /v1/sessions), appends to it this many
    # times, and starts over.
    appends_per_session: int = 0

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> LoadSpec:
        requests = [WireRequest(**r) for r in raw.pop("requests")]
        return cls(requests=requests, **raw)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; ``exchange`` sends a request and awaits its response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.body: list[bytes] = []
        self.keep_body = False
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionError("connection closed by the server"))

    def _fail(self, exc: BaseException) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc)
        if not self.lost.done():
            self.lost.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.keep_body:
            self.body.append(body)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    async def exchange(self, payload: bytes, keep_body: bool = False) -> int:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.body, self.keep_body = [], keep_body
        self.transport.write(payload)
        return await self.done


@dataclass
class _Tally:
    start: float
    end: float
    latencies: dict[str, list[int]] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0

    def record(self, kind: str, began: float, finished: float, status: int | None) -> None:
        if began < self.start or finished > self.end:
            return  # warm-up, or a request straddling the end of the window
        key = str(status) if status is not None else "connection-error"
        self.statuses[key] = self.statuses.get(key, 0) + 1
        if status is None or not 200 <= status < 300:
            self.errors += 1
            return
        self.latencies.setdefault(kind, []).append(int((finished - began) * 1e9))


async def _drive(spec: LoadSpec, tally: _Tally, offset: int) -> None:
    loop = asyncio.get_running_loop()
    host = f"{spec.host}:{spec.port}"
    plain = [r.encode(host) for r in spec.requests]
    step = offset
    while time.perf_counter() < tally.end:
        _, conn = await loop.create_connection(_Connection, spec.host, spec.port)
        try:
            while time.perf_counter() < tally.end and not conn.lost.done():
                if spec.appends_per_session:
                    await _write_cycle(spec, conn, tally, host, offset)
                    continue
                began = time.perf_counter()
                status = await conn.exchange(plain[step % len(plain)])
                tally.record(spec.requests[step % len(plain)].kind, began,
                             time.perf_counter(), status)  # fmt: skip
                step += 1
        except (ConnectionError, httptools.HttpParserError):
            tally.record("error", time.perf_counter(), time.perf_counter(), None)
        finally:
            if conn.transport is not None:
                conn.transport.close()


async def _write_cycle(
    spec: LoadSpec, conn: _Connection, tally: _Tally, host: str, connection: int
) -> None:
    """Create a session, then append to it: the chat app's write path."""
    pair = connection % (len(spec.requests) // 2)
    create, append = spec.requests[2 * pair], spec.requests[2 * pair + 1]
    began = time.perf_counter()
    status = await conn.exchange(create.encode(host), keep_body=True)
    tally.record(create.kind, began, time.perf_counter(), status)
    if status != 201:
        return
    session_id = json.loads(b"".join(conn.body))["id"]
    payload = append.encode(host, append.path.replace("{id}", session_id))
    for _ in range(spec.appends_per_session):
        if time.perf_counter() >= tally.end:
            return
        began = time.perf_counter()
        status = await conn.exchange(payload)
        tally.record(append.kind, began, time.perf_counter(), status)


async def run_load(spec: LoadSpec) -> dict[str, Any]:
    """Drive the load and summarise the recorded window."""
    now = time.perf_counter()
    tally = _Tally(start=now + spec.warmup, end=now + spec.warmup + spec.duration)
    sampler = ProcessSampler(spec.server_pid) if spec.server_pid else None
    watcher = asyncio.create_task(_watch(sampler, tally)) if sampler else None
    await asyncio.gather(*(_drive(spec, tally, k) for k in range(spec.concurrency)))
    server = await watcher if watcher else {}
    kinds = {k: latency_summary(v, spec.duration) for k, v in sorted(tally.latencies.items())}
    total = sum(len(v) for v in tally.latencies.values())
    return {
        "concurrency": spec.concurrency,
        "duration_s": spec.duration,
        "ok": total,
        "errors": tally.errors,
        "statuses": tally.statuses,
        "requests_per_s": round(total / spec.duration, 1),
        "latency": latency_summary([x for v in tally.latencies.values() for x in v], spec.duration),
        "by_kind": kinds,
        "server": server,
    }


async def _watch(sampler: ProcessSampler, tally: _Tally) -> dict[str, float]:
    """The server's CPU time and RSS over exactly the recorded window."""
    await asyncio.sleep(max(0.0, tally.start - time.perf_counter()))
    before = sampler.cpu_seconds()
    peak_rss = sampler.rss_bytes()
    while (left := tally.end - time.perf_counter()) > 0:
        await asyncio.sleep(min(0.25, left))
        peak_rss = max(peak_rss, sampler.rss_bytes())
    return {"cpu_seconds": round(sampler.cpu_seconds() - before, 3), "rss_peak_bytes": peak_rss}


# --- the trivial server the load generator's own ceiling is measured against ----------


class _ConstantResponder(asyncio.Protocol):
    RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]"

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.transport.write(self.RESPONSE)


async def serve_constant(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_ConstantResponder, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--constant-server"]:
        uvloop.run(serve_constant(int(argv[1])))
        return 0
    spec = LoadSpec.from_json(json.loads(sys.stdin.read()))
    result = uvloop.run(run_load(spec))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
