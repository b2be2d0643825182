"""A JSON array streamed from the database in chunks, for lists the seed does not page.

The request's own transaction has ended by the time a streamed body is sent, so the
body's generator reads in a transaction of its own. The handler pulls the first chunk
before answering: authorization, a bad filter or an unreachable database still get a
proper error status instead of a 200 with a broken body.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping

from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from chatkeep.core.uow import UnitOfWork
from chatkeep.runtime import Runtime, unit_of_work

CHUNK_ITEMS = 500  # items per body chunk: matches the repository's fetch size

ProduceItems = Callable[[UnitOfWork], AsyncIterator[BaseModel]]


class JSONArrayStream(StreamingResponse):
    """Sends an already fetched first chunk, then the rest; always ends the generator, so
    a client that goes away mid-stream releases the read transaction at once."""

    def __init__(
        self, first: bytes, rest: AsyncGenerator[bytes, None], headers: Mapping[str, str]
    ) -> None:
        self._rest = rest
        super().__init__(self._chunks(first), media_type="application/json", headers=headers)

    async def _chunks(self, first: bytes) -> AsyncIterator[bytes]:
        yield first
        async for chunk in self._rest:
            yield chunk

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._rest.aclose()


async def stream_json_array(
    state: Runtime, produce: ProduceItems, headers: Mapping[str, str] | None = None
) -> JSONArrayStream:
    chunks = json_array_chunks(state, produce)
    first = await anext(chunks)  # a failure here ends the generator and is answered normally
    return JSONArrayStream(first, chunks, headers or {})


async def json_array_chunks(
    state: Runtime, produce: ProduceItems, chunk_items: int = CHUNK_ITEMS
) -> AsyncGenerator[bytes, None]:
    """``[item,item,...]`` in chunks of ``chunk_items`` items, read in one transaction."""
    async with unit_of_work(state, write=False) as uow:
        parts = [b"["]
        count = 0
        async for item in produce(uow):
            if count:
                parts.append(b",")
            parts.append(item.__pydantic_serializer__.to_json(item))
            count += 1
            if count % chunk_items == 0:
                yield b"".join(parts)
                parts = []
        parts.append(b"]")
        yield b"".join(parts)
