"""The browser suite's fixtures: one real ``chatkeep serve`` on a throwaway SQLite file,
one headless Debian Chromium (Playwright for Python, never ``playwright install``), and
set-up done directly through the core, as the other end-to-end tests do.

Chromium that cannot start FAILS the suite loudly (it is installed by .ci/run); it is
never a skip.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from chatkeep.core import tenants
from chatkeep.core.web_sessions import issue_login_token
from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.api.aidoc.live_server import chatkeep_command
from tests.factories import World, remember_secret
from tests.processes import stop

try:  # the answers work's scripted OpenAI-compatible provider (a real HTTP server)
    from tests.answers_support import Script, scripted_provider
except ImportError:  # pragma: no cover - before the answers work is merged
    Script = scripted_provider = None

T = TypeVar("T")
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
# The committed screenshots are refreshed on purpose (`make screenshots`), not by every run:
# a run writes its own under .artifacts/, where CI keeps them for a look.
_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    _ROOT / "docs" / "screenshots"
    if os.environ.get("CHATKEEP_UPDATE_SCREENSHOTS") == "1"
    else _ROOT / ".artifacts" / "screenshots"
)
STARTUP_SECONDS = 30


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on its own loop in a worker thread: Playwright's sync API owns
    this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port_in(low: int = 8900, high: int = 8999) -> int:
    for port in range(low + secrets.randbelow(high - low), high + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


@dataclass
class WebServer:
    base_url: str
    settings: Settings
    log: Path
    script: Any = None  # the scripted LLM's Script: tokens, pauses (None: no answers work)

    def world_call(self, work: Any) -> Any:
        """Run ``work(world)`` (a coroutine function) against the server's database."""

        async def main() -> Any:
            runtime = Runtime.build(self.settings)
            try:
                return await work(World(runtime))
            finally:
                await runtime.engine.dispose()

        return run_async(main())

    def login_url(self, tenant: str, user: str, *, minutes: float = 10) -> str:
        async def issue(world: World) -> str:
            async with world.uow() as uow:
                issued = await issue_login_token(uow, tenant, user, ttl=timedelta(minutes=minutes))
            return remember_secret(issued.token)

        return f"{self.base_url}/#login={self.world_call(issue)}"

    def new_tenant(self, *users: str) -> str:
        async def create(world: World) -> str:
            name = await world.tenant()
            async with world.uow() as uow:
                for user in users:
                    await tenants.create_user(uow, name, user)
            return name

        return str(self.world_call(create))


@pytest.fixture(scope="session")
def llm() -> Iterator[tuple[Any, str | None]]:
    """The scripted provider every answer of the suite's server comes from."""
    if Script is None:
        yield None, None
        return
    script = Script()
    with scripted_provider(script) as base_url:
        yield script, base_url


@pytest.fixture(scope="session")
def web_server(
    tmp_path_factory: pytest.TempPathFactory, llm: tuple[Any, str | None]
) -> Iterator[WebServer]:
    script, llm_url = llm
    workdir = tmp_path_factory.mktemp("web")
    secret = "web-" + secrets.token_hex(16)
    url = f"sqlite:///{workdir / 'web.db'}"
    env = {
        **os.environ,
        "CHATKEEP_DATABASE_URL": url,
        "CHATKEEP_SECRET_KEY": secret,
        "CHATKEEP_SECRET_KEY_FILE": str(workdir / "unused.secret"),
        "CHATKEEP_LOG_LEVEL": "warning",
        "CHATKEEP_RATE_LIMIT_REQUESTS": "0",
        # Answers come from the scripted provider (never the embedded model), and a
        # reader tailing an answer polls often, so the browser sees deltas promptly.
        "CHATKEEP_LLM_BASE_URL": llm_url or "http://127.0.0.1:9/v1",
        "CHATKEEP_ANSWER_POLL_SECONDS": "0.05",
        "CHATKEEP_ANSWER_FLUSH_SECONDS": "0.05",
        "CHATKEEP_INGEST_POLL_SECONDS": "0.2",
    }
    port = free_port_in()
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*chatkeep_command(), "serve", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        server = WebServer(
            f"http://127.0.0.1:{port}",
            Settings(database_url=url, secret_key=secret),  # type: ignore[arg-type]
            log,
            script,
        )
        try:
            _wait_until_ready(server, process)
            yield server
        finally:
            stop(process, timeout=10)


def _wait_until_ready(server: WebServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chatkeep serve exited:\n{server.log.read_text()}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"chatkeep serve did not start in time:\n{server.log.read_text()}")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "chromium is not installed: the browser suite needs Debian's chromium "
            "(.ci/run installs it: apt-get install chromium chromium-driver fonts-wqy-microhei)",
            pytrace=False,
        )
    try:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
    except Exception as exc:  # any launch failure must fail loudly, never skip
        pytest.fail(f"chromium at {executable} cannot run: {exc}", pytrace=False)
    yield launched
    launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh profile (cookies, storage) per test: tests never share a sign-in."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def sign_in(page: Page, server: WebServer, tenant: str, user: str) -> None:
    page.goto(server.login_url(tenant, user))
    page.wait_for_selector("body[data-ready='true']")


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
