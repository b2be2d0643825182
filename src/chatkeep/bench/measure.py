"""Measurements taken against a running server: load runs, captures, the streamed list."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from typing import Any

import httpx

from chatkeep.bench.loadgen import LoadSpec, WireRequest
from chatkeep.bench.procstat import ProcessSampler, pin_to_cpu
from chatkeep.bench.server import RunningServer

LOADGEN_CPU = 1


def run_loadgen(
    server: RunningServer, requests: list[WireRequest], *, concurrency: int, warmup: float,
    duration: float, appends_per_session: int = 0, pin: bool,
) -> dict[str, Any]:  # fmt: skip
    """One load run in a separate process (pinned to the other CPU); its JSON result."""
    spec = LoadSpec("127.0.0.1", server.port, concurrency, warmup, duration, requests,
                    server.pid, appends_per_session)  # fmt: skip
    raw = asdict(spec)
    process = subprocess.Popen(
        [sys.executable, "-m", "chatkeep.bench.loadgen"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    pinned = pin and pin_to_cpu(process.pid, LOADGEN_CPU)
    out, err = process.communicate(json.dumps(raw).encode(), timeout=warmup + duration + 120)
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode(errors='replace')[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    result["loadgen_pinned"] = pinned
    server_side = result.get("server") or {}
    if result["ok"] and "cpu_seconds" in server_side:
        server_side["cpu_ms_per_request"] = round(
            server_side["cpu_seconds"] / result["ok"] * 1e3, 3
        )
    return result


def capture(client: httpx.Client, request: WireRequest, path: str | None = None) -> dict[str, Any]:
    """One request to the real server: its exact response, for the floor to replay."""
    response = client.request(
        request.method, path or request.path, headers=request.all_headers,
        content=request.body.encode() if request.body is not None else None,
    )  # fmt: skip
    if not 200 <= response.status_code < 300:
        raise RuntimeError(
            f"{request.method} {request.path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )
    return {
        "method": request.method,
        "target": path or request.path,
        "status": response.status_code,
        "content_type": response.headers.get("content-type", "application/json"),
        "body": response.text,
        "bytes": len(response.content),
    }


def measure_stream(server: RunningServer, key: str, path: str, rounds: int = 3) -> dict[str, Any]:
    """The heavy user's whole AISquare list: time to first byte and server RSS growth.

    RSS is sampled every 2 ms from /proc while the response streams; growth is the peak
    during the request less the RSS just before it.
    """
    runs = [_one_stream(server, key, path) for _ in range(rounds)]
    return {
        "runs": runs,
        "ttfb_ms_max": max(r["ttfb_ms"] for r in runs),
        "rss_growth_mb_max": max(r["rss_growth_mb"] for r in runs),
        "bytes": runs[0]["bytes"],
    }


def _one_stream(server: RunningServer, key: str, path: str) -> dict[str, Any]:
    sampler = ProcessSampler(server.pid)
    before = sampler.rss_bytes()
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], sampler.rss_bytes())
            time.sleep(0.002)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    request = (f"GET {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {key}\r\n"
               "Connection: close\r\n\r\n").encode()  # fmt: skip
    received = 0
    with socket.create_connection(("127.0.0.1", server.port)) as conn:
        began = time.perf_counter()
        conn.sendall(request)
        first = conn.recv(65536)
        ttfb = time.perf_counter() - began
        received = len(first)
        while chunk := conn.recv(1 << 20):
            received += len(chunk)
        total = time.perf_counter() - began
    stop.set()
    watcher.join()
    status = first.split(b" ", 2)[1].decode() if first else "none"
    return {
        "status": status,
        "ttfb_ms": round(ttfb * 1e3, 2),
        "total_ms": round(total * 1e3, 1),
        "bytes": received,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_growth_mb": round((peak[0] - before) / 2**20, 1),
    }
