"""Shared fixtures: every test runs on a real SQLite file and a real PostgreSQL database.

PostgreSQL tests use a throwaway database created for this run and dropped after it.
Without a reachable server they are skipped with the reason shown, unless
CHATKEEP_REQUIRE_POSTGRES=1 (CI), which turns that into a failure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from chatkeep.app import create_app
from chatkeep.db.migrate import upgrade_to_head
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.databases import fresh_postgres_database
from tests.factories import World
from tests.security.figures import FIGURES
from tests.security.leaks import LeakWatch

TABLES = (
    "chunk_search",
    "chunks",
    "ingest_jobs",
    "document_contents",
    "documents",
    "answer_events",
    "answers",
    "web_sessions",
    "web_login_tokens",
    "messages",
    "sessions",
    "api_keys",
    "access_key_nonces",
    "access_keys",
    "domains",
    "users",
    "tenants",
)


LEAK_WATCH = LeakWatch()


def pytest_sessionstart(session: pytest.Session) -> None:
    LEAK_WATCH.install()  # every log record of the whole run, checked for secrets at the end


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    LEAK_WATCH.uninstall()
    if LEAK_WATCH.leaked():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    leaks = LEAK_WATCH.leaked()
    lines, issued = len(LEAK_WATCH.handler.lines), len(LEAK_WATCH.issued())
    terminalreporter.write_line(
        f"secret-leak check: {lines} log records scanned for {issued} issued secrets, "
        f"{len(leaks)} leaks"
    )
    for leak in leaks:
        terminalreporter.write_line(f"LEAKED SECRET IN LOG: {leak}", red=True)
    for name, count in sorted(FIGURES.items()):
        terminalreporter.write_line(f"security figures: {name} = {count}")


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with fresh_postgres_database() as url:
        upgrade_to_head(Settings(database_url=url, secret_key="test"))  # type: ignore[arg-type]
        yield url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "chatkeep.db"
    url = f"sqlite:///{path}"
    upgrade_to_head(Settings(database_url=url, secret_key="test"))  # type: ignore[arg-type]
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",  # type: ignore[arg-type]
        secret_key_file=tmp_path / "unused.secret",
        max_message_bytes=4096,
        max_body_bytes=64 * 1024,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    state: Runtime = application.state.chatkeep
    try:
        yield application
    finally:
        await empty_tables(state)
        await state.engine.dispose()


async def empty_tables(state: Runtime) -> None:
    async with state.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                await conn.execute(sa.text(f"DELETE FROM {table}"))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://chatkeep.test") as c:
        yield c


@pytest.fixture
def world(app: FastAPI) -> World:
    return World(app.state.chatkeep)
