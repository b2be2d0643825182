"""A tiny real HTTP server for URL uploads (a port in 8700-8799, on 127.0.0.1)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/guide.md": (
        200,
        {"Content-Type": "text/markdown"},
        b"# Guide\n\nThe lighthouse opens at dawn.",
    ),
    "/hop": (302, {"Location": "/guide.md"}, b""),
    "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    "/to-file": (302, {"Location": "file:///etc/passwd"}, b""),
    "/missing": (404, {}, b"no"),
    "/big": (200, {"Content-Type": "text/plain"}, b"x" * 8192),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code, headers, body = ROUTES.get(self.path, (404, {}, b""))
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def _free_port() -> int:
    for port in range(8790, 8700, -1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8700-8799")


@contextmanager
def web_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", _free_port()), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
