"""The floor: the same server framework returning the captured response bytes from memory.

FastAPI on uvicorn with the options ``chatkeep serve`` uses (one worker, its log level,
no proxy headers), one catch-all route that answers each captured request (method, path
and query) with the status, content type and body chatkeep sent for it. No database, no
auth, no rendering: what is left is the framework's and the server's own cost.

    python -m chatkeep.bench.floor_app PORT RESPONSES.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response

from chatkeep.settings import Settings


def create_floor_app(captured: list[dict[str, Any]]) -> FastAPI:
    answers = {
        (c["method"], c["target"]): (c["status"], c["content_type"], c["body"].encode())
        for c in captured
    }
    app = FastAPI()

    @app.get("/healthz")  # registered first: the catch-all below would take it
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.api_route("/{path:path}", methods=["GET", "POST"])
    async def replay(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        found = answers.get((request.method, target))
        if found is None:
            return Response(status_code=404)
        status, content_type, body = found
        return Response(body, status_code=status, media_type=content_type)

    return app


def main(argv: list[str]) -> int:
    import uvicorn

    port, responses = int(argv[0]), Path(argv[1])
    app = create_floor_app(json.loads(responses.read_text()))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level=Settings().log_level,
                proxy_headers=False)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
