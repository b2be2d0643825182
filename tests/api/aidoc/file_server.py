"""A real HTTP server for SubmitDocParsingTask's fileUrl: files a test puts in ``files``."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.processes import free_port


@dataclass
class FileServer:
    url: str
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path: (type, bytes)

    def add(self, path: str, content_type: str, data: bytes) -> str:
        self.files[path] = (content_type, data)
        return f"{self.url}{path}"


@contextmanager
def file_server() -> Iterator[FileServer]:
    served = FileServer("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = served.files.get(self.path)
            code, kind, body = (200, *found) if found else (404, "text/plain", b"no such file")
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
