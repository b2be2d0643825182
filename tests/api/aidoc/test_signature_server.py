"""The real server (``chatkeep serve --workers 2``) with keys made by the real CLI.

Nonce reuse must be refused whichever worker process serves the replay, and the official
SDK in AK/SK mode must authenticate unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from alibabacloud_energyexpertexternal20220923 import models as sdk_models
from alibabacloud_energyexpertexternal20220923.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

from chatkeep.runtime import Runtime
from chatkeep.settings import Settings
from tests.api.aidoc.sdk_signing import SdkSigner
from tests.conftest import empty_tables
from tests.processes import free_port, stop

pytestmark = pytest.mark.anyio

CHATKEEP = str(Path(sys.executable).with_name("chatkeep"))
SESSION_LIST = "/api/v2/aidoc/document/chat/session/list"
SESSION_CREATE = "/api/v2/aidoc/document/chat/session/create"


@dataclass
class Server:
    port: int
    env: dict[str, str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> Any:
        done = subprocess.run(
            [CHATKEEP, *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if "--json" in args else done.stdout

    def signer(self, tenant: str, user_id: str) -> SdkSigner:
        pair = self.cli("access-key", "create", "--tenant", tenant, "--user", user_id, "--json")
        return SdkSigner(
            pair["accessKeyId"], pair["accessKeySecret"], host=f"127.0.0.1:{self.port}"
        )


def _wait_until_up(process: subprocess.Popen[bytes], log: Path, workers: int) -> None:
    """Until every worker has started (each logs it), so any of them may take a connection."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        if log.read_text().count("Application startup complete.") >= workers:
            return
        time.sleep(0.2)
    raise AssertionError(f"the workers did not all start within 90 seconds:\n{log.read_text()}")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """Two workers on the test database, one server per module and database (starting
    one is slow); every test makes its own tenant, and the tables are emptied after."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    tmp = tmp_path_factory.mktemp("server")
    env = {
        **os.environ,
        "CHATKEEP_DATABASE_URL": url,
        "CHATKEEP_SECRET_KEY": "server-test-key",
        "CHATKEEP_SECRET_KEY_FILE": str(tmp / "unused.secret"),
        "CHATKEEP_LOG_LEVEL": "info",
    }
    port, log = free_port(), tmp / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [CHATKEEP, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(process, log, workers=2)
        yield Server(port, env)
    finally:
        stop(process)
        asyncio.run(_empty_database(url))


async def _empty_database(url: str) -> None:
    state = Runtime.build(Settings(database_url=url, secret_key="unused"))  # type: ignore[arg-type]
    try:
        await empty_tables(state)
    finally:
        await state.engine.dispose()


def _tenant(server: Server) -> str:
    name = f"t-{os.urandom(5).hex()}"
    server.cli("tenant", "create", name, "--json")
    return name


async def _send_fresh(server: Server, signed: Any) -> httpx.Response:
    # A new client per request: a new connection, which either worker may accept.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        return await client.request(**signed.send_args())


async def test_a_replay_is_refused_by_every_worker(server: Server) -> None:
    signer = server.signer(_tenant(server), "alice")
    signed = signer.sign("POST", SESSION_CREATE, body={"name": "once"})
    assert (await _send_fresh(server, signed)).status_code == 200
    for _ in range(8):
        replay = await _send_fresh(server, signed)
        assert (replay.status_code, replay.json()["code"]) == (400, "SignatureNonceUsed")
    listed = await _send_fresh(server, signer.sign("POST", SESSION_LIST, body={}))
    assert listed.json()["data"]["total"] == 1


async def test_concurrent_copies_of_one_request_succeed_exactly_once(server: Server) -> None:
    signer = server.signer(_tenant(server), "alice")
    signed = signer.sign("POST", SESSION_CREATE, body={"name": "race"})
    statuses: list[int] = []

    async def attempt() -> None:
        statuses.append((await _send_fresh(server, signed)).status_code)

    async with anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(attempt)
    assert sorted(statuses) == [200] + [400] * 7
    listed = await _send_fresh(server, signer.sign("POST", SESSION_LIST, body={}))
    assert listed.json()["data"]["total"] == 1


def _sdk(server: Server, signer: SdkSigner, secret: str | None = None) -> Client:
    return Client(
        Config(
            access_key_id=signer.access_key_id,
            access_key_secret=secret or signer.access_key_secret,
            endpoint=f"127.0.0.1:{server.port}",
            protocol="http",
        )
    )


async def test_the_official_sdk_authenticates_with_an_access_key(server: Server) -> None:
    tenant = _tenant(server)
    signer = server.signer(tenant, "alice")
    await _send_fresh(server, signer.sign("POST", SESSION_CREATE, body={"name": "from http"}))
    client = _sdk(server, signer)
    request = sdk_models.GetChatSessionListRequest(current_page=1, page_size=10)
    response = await anyio.to_thread.run_sync(client.get_chat_session_list, request)
    assert response.status_code == 200
    assert [s.name for s in response.body.data.session_list] == ["from http"]
    assert response.body.data.session_list[0].user_id == "alice"


async def test_the_sdk_surfaces_signature_errors_as_client_exceptions(server: Server) -> None:
    signer = server.signer(_tenant(server), "alice")
    request = sdk_models.GetChatSessionListRequest()
    wrong = _sdk(server, signer, secret="not-the-secret")
    with pytest.raises(ClientException) as caught:
        await anyio.to_thread.run_sync(wrong.get_chat_session_list, request)
    assert caught.value.code == "SignatureDoesNotMatch"
    server.cli("access-key", "revoke", signer.access_key_id)
    with pytest.raises(ClientException) as caught:
        await anyio.to_thread.run_sync(_sdk(server, signer).get_chat_session_list, request)
    assert caught.value.code == "InvalidAccessKeyId.Inactive"
