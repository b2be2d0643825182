"""Fixtures for the answer tests: a scripted provider, a library, and workers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.answers_support import (
    Library,
    Script,
    Worker,
    answer_settings,
    scripted_provider,
    worker,
)
from tests.conftest import empty_tables

StartWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def provider_url(script: Script) -> Iterator[str]:
    with scripted_provider(script) as url:
        yield url


@pytest.fixture
def library() -> Library:
    return Library()


@pytest.fixture
async def start_worker(
    settings: Settings, provider_url: str, library: Library
) -> AsyncIterator[StartWorker]:
    """Start a worker (a real server; several share the database like worker processes)."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Worker:
            configured = answer_settings(settings, provider_url, **overrides)
            return await stack.enter_async_context(worker(configured, library))

        try:
            yield start
        finally:
            runtime = Runtime.build(settings)
            await stack.aclose()
            await empty_tables(runtime)
            await runtime.engine.dispose()
