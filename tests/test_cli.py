"""The ``chatkeep`` command as scripts use it: the real console script in a subprocess.

Checks issue 2's CLI contract (exact JSON shapes, keys that work against the API, revoke,
an idempotent demo), that every failure is one clear line on stderr with a non-zero
exit and no traceback, and that ``serve`` migrates an empty database and answers probes.
Each CLI start costs an interpreter and the imports, so tests share one migrated SQLite
file (names are unique per test) and the failure cases run concurrently.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import sqlalchemy as sa

from chatkeep.app import create_app
from chatkeep.core.models import Base
from chatkeep.settings import Settings
from tests.databases import fresh_postgres_database
from tests.processes import free_port, stop

SECRET = "cli-test-secret"
_SCRIPT = Path(sys.executable).with_name("chatkeep")
CHATKEEP = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "chatkeep.cli"]
TIMEOUT = 120  # seconds for one command; generous for a loaded CI machine


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.returncode == 0, f"chatkeep {' '.join(self.args)} failed: {self.stderr}"
        lines = self.stdout.strip().splitlines()
        assert len(lines) == 1, f"expected one JSON line, got: {self.stdout!r}"
        return orjson.loads(lines[0])


# Every command starts a fresh interpreter. Where the environment forbids bytecode
# caches (PYTHONDONTWRITEBYTECODE), each start would recompile SQLAlchemy and FastAPI
# from source (seconds each); the children share a private cache outside the tree instead.
PYCACHE = Path(tempfile.gettempdir()) / f"chatkeep-test-pycache-{os.getuid()}"


def _env(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CHATKEEP_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {
        "CHATKEEP_DATABASE_URL": database_url,
        "CHATKEEP_SECRET_KEY": SECRET,
        "PYTHONPYCACHEPREFIX": str(PYCACHE),
    }
    return env


def start(database_url: str, cwd: Path, *args: str, **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CHATKEEP, *args], env=_env(database_url), cwd=cwd, text=True,
        stdout=popen.pop("stdout", subprocess.PIPE), stderr=popen.pop("stderr", subprocess.PIPE),
        **popen,
    )  # fmt: skip


def finish(process: subprocess.Popen[str], args: tuple[str, ...]) -> Result:
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return Result(args, process.returncode, stdout, stderr)


def chatkeep(database_url: str, cwd: Path, *args: str) -> Result:
    return finish(start(database_url, cwd, *args), args)


def assert_one_line_failure(result: Result, *fragments: str) -> None:
    assert result.returncode != 0, f"expected a failure, got: {result.stdout!r}"
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {result.stderr!r}"
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def db_url(workdir: Path) -> str:
    """One SQLite file migrated by ``chatkeep migrate`` itself, shared by this module."""
    url = f"sqlite:///{workdir / 'chatkeep.db'}"
    result = chatkeep(url, workdir, "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database is up to date"
    return url


@pytest.fixture
async def api(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app over the CLI's database, to check that what the CLI made works."""
    settings = Settings(
        database_url=db_url,
        secret_key=SECRET,  # type: ignore[arg-type]
        secret_key_file=tmp_path / "unused.secret",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://cli.test") as client:
            yield client
    finally:
        await app.state.chatkeep.engine.dispose()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- the contract -------------------------------------------------------------------------


def test_migrate_creates_every_table(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        tables = set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables


@pytest.mark.anyio
async def test_created_tenant_user_domains_and_key_work_against_the_api(
    db_url: str, workdir: Path, api: httpx.AsyncClient
) -> None:
    name = f"acme-{uuid.uuid4().hex[:8]}"
    tenant = chatkeep(db_url, workdir, "tenant", "create", name, "--json").json()
    assert set(tenant) == {"name", "id"}
    assert tenant["name"] == name and isinstance(tenant["id"], int)

    user = chatkeep(db_url, workdir, "user", "create", "--tenant", name, "u-42", "--json").json()
    assert user == {"tenant": name, "user_id": "u-42"}

    docs = chatkeep(db_url, workdir, "domain", "create", "--tenant", name, "Docs", "--json").json()
    assert set(docs) == {"id", "name", "parent_id"}
    assert docs["name"] == "Docs" and docs["parent_id"] is None
    uuid.UUID(docs["id"])
    child = chatkeep(
        db_url, workdir, "domain", "create", "--tenant", name, "API", "--parent", docs["id"],
        "--json",
    ).json()  # fmt: skip
    assert child["name"] == "API" and child["parent_id"] == docs["id"]

    issued = chatkeep(
        db_url, workdir, "key", "create", "--tenant", name, "--user", "u-42", "--service",
        "--scope", "sessions:read", "--scope", "domains:read", "--expires-in", "7", "--json",
    ).json()  # fmt: skip
    assert {"id", "key", "scopes"} <= set(issued)
    assert issued["key"].startswith("ck_")
    assert sorted(issued["scopes"]) == ["domains:read", "sessions:read"]

    me = await api.get("/v1/me", headers=_bearer(issued["key"]))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["tenant"]["name"] == name and body["user_id"] == "u-42"
    assert body["credential"]["id"] == issued["id"]
    assert body["credential"]["kind"] == "service"
    assert sorted(body["credential"]["scopes"]) == ["domains:read", "sessions:read"]
    assert body["credential"]["expires_at"] is not None
    listed = await api.get("/v1/domains", headers=_bearer(issued["key"]))
    assert listed.status_code == 200, listed.text
    assert {docs["id"], child["id"]} <= {d["id"] for d in listed.json()["data"]}

    revoked = chatkeep(db_url, workdir, "key", "revoke", issued["id"])
    assert revoked.returncode == 0, revoked.stderr
    assert (await api.get("/v1/me", headers=_bearer(issued["key"]))).status_code == 401


@pytest.mark.anyio
async def test_demo_is_idempotent_and_prints_a_new_working_key_each_time(
    db_url: str, workdir: Path, api: httpx.AsyncClient
) -> None:
    first = chatkeep(db_url, workdir, "demo", "--json").json()
    second = chatkeep(db_url, workdir, "demo", "--json").json()

    assert (first["tenant"], first["user_id"]) == (second["tenant"], second["user_id"])
    assert first["key"].startswith("ck_") and second["key"].startswith("ck_")
    assert first["key"] != second["key"]
    assert first["key"] in first["curl"]
    assert first["login_url"].startswith("http://127.0.0.1:8000/#login=ckl_")
    assert first["login_url"] != second["login_url"]
    seen = []
    for key in (first["key"], second["key"]):
        page = await api.get("/v1/sessions", headers=_bearer(key), params={"limit": 100})
        assert page.status_code == 200, page.text
        seen.append(sorted((s["id"], s["title"], s["message_count"]) for s in page.json()["data"]))
    assert seen[0] and seen[0] == seen[1]  # seeded once, not twice


# --- failures: one clear line, non-zero exit, no traceback ---------------------------------

UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/x"


@pytest.fixture(scope="module")
def failures(db_url: str, workdir: Path) -> Iterator[dict[str, Result]]:
    """Every failure case, run concurrently (each pays for a fresh interpreter)."""
    taken = f"taken-{uuid.uuid4().hex[:8]}"
    assert chatkeep(db_url, workdir, "tenant", "create", taken).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        cases: dict[str, tuple[str, tuple[str, ...]]] = {
            "duplicate tenant": (db_url, ("tenant", "create", taken, "--json")),
            "unknown tenant": (db_url, ("user", "create", "--tenant", "nobody-here", "u1")),
            "bad scope": (db_url, ("key", "create", "--tenant", taken, "--user", "u1",
                                   "--scope", "sessions:delete", "--json")),
            "unknown key": (db_url, ("key", "revoke", str(uuid.uuid4()))),
            "unsupported url": ("mysql://root@127.0.0.1/chatkeep", ("migrate",)),
            "unreachable postgresql": (UNREACHABLE_PG, ("tenant", "create", "a")),
            "port in use": (db_url, ("serve", "--port", port)),
        }  # fmt: skip
        running = {name: (start(url, workdir, *args), args) for name, (url, args) in cases.items()}
        yield {name: finish(process, args) for name, (process, args) in running.items()}


@pytest.mark.parametrize(
    ("case", "fragments"),
    [
        ("duplicate tenant", ("already exists",)),
        ("unknown tenant", ("nobody-here", "not found")),
        ("bad scope", ("sessions:delete",)),
        ("unknown key", ("not found",)),
        ("unsupported url", ("unsupported database", "mysql")),
        ("unreachable postgresql", ("127.0.0.1",)),
        ("port in use", ("port already in use",)),
    ],
)
def test_failure_is_one_clear_line(
    failures: dict[str, Result], case: str, fragments: tuple[str, ...]
) -> None:
    assert_one_line_failure(failures[case], *fragments)


def test_a_failed_command_changes_nothing(db_url: str, failures: dict[str, Result]) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            names = set(conn.scalars(sa.text("SELECT name FROM tenants")))
            users = set(conn.scalars(sa.text("SELECT external_id FROM users")))
    finally:
        engine.dispose()
    assert "nobody-here" not in names
    assert "u1" not in users  # the key with a bad scope did not create its user


# --- serve --------------------------------------------------------------------------------


def test_serve_migrates_an_empty_database_then_answers_probes(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    url = f"sqlite:///{database}"
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    server = start(url, tmp_path, "serve", "--port", str(port), stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert server.poll() is None, f"serve exited early:\n{_read(log)}"
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, f"serve never answered:\n{_read(log)}"
                time.sleep(0.2)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        # Authenticating reads the api_keys table: a 401, not a 5xx, shows the schema exists.
        me = httpx.get(f"{base}/v1/me", headers=_bearer("ck_not_a_real_key"), timeout=5)
        assert me.status_code == 401, me.text
    finally:
        stop(server)
        log.close()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells of it.
    output = _read_path(tmp_path / "serve.log")
    assert server.returncode in (0, -signal.SIGTERM), output
    assert "Finished server process" in output and "Traceback" not in output


def _read(log: Any) -> str:
    log.flush()
    log.seek(0)
    return str(log.read())


def _read_path(path: Path) -> str:
    return path.read_text()


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_demo_on_an_empty_postgresql_database_migrates_and_its_key_works(
    tmp_path: Path,
) -> None:
    with fresh_postgres_database() as url:
        demo = chatkeep(url, tmp_path, "demo", "--json").json()
        settings = Settings(
            database_url=url,
            secret_key=SECRET,  # type: ignore[arg-type]
            secret_key_file=tmp_path / "unused.secret",
        )
        app = create_app(settings)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://pg.test") as client:
                me = await client.get("/v1/me", headers=_bearer(demo["key"]))
                sessions = await client.get("/v1/sessions", headers=_bearer(demo["key"]))
        finally:
            await app.state.chatkeep.engine.dispose()
    assert me.status_code == 200, me.text
    assert me.json()["user_id"] == demo["user_id"]
    assert sessions.status_code == 200 and sessions.json()["data"]


@pytest.mark.anyio
async def test_login_link_prints_a_one_time_link_that_signs_a_browser_in(
    db_url: str, workdir: Path, api: httpx.AsyncClient
) -> None:
    tenant = f"web-{uuid.uuid4().hex[:8]}"
    assert chatkeep(db_url, workdir, "tenant", "create", tenant).returncode == 0
    link = chatkeep(
        db_url, workdir, "login-link", "--tenant", tenant, "--user", "u7",
        "--base-url", "http://chat.example/", "--json",
    ).json()  # fmt: skip

    assert link["url"].startswith("http://chat.example/#login=ckl_")
    assert (link["tenant"], link["user_id"]) == (tenant, "u7")
    token = link["url"].split("#login=", 1)[1]
    headers = {"Sec-Fetch-Site": "same-origin"}
    signed_in = await api.post("/web/login", json={"token": token}, headers=headers)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user_id"] == "u7"
    again = await api.post("/web/login", json={"token": token}, headers=headers)
    assert again.status_code == 401
