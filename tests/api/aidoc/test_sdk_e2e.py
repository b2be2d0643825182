"""The official Alibaba SDK, in bearer-token mode, against the real server process.

One server per database (SQLite file, PostgreSQL database), set up through the CLI
exactly as an operator would; every SDK method of the dialect and each error class.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from alibabacloud_energyexpertexternal20220923 import models
from alibabacloud_energyexpertexternal20220923.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.utils_models import Config

from tests.api.aidoc.live_server import LiveServer, fresh_database, live_server, run_cli

pytestmark = pytest.mark.anyio  # the tests are synchronous: the SDK blocks

REFERENCE = {"docName": "grid.pdf", "docUrl": "https://docs.example/grid.pdf", "sourceType": "doc"}


@dataclass(frozen=True)
class Deployment:
    server: LiveServer
    tenant: str
    alice: str  # a user key
    service: str  # a service key that may only read sessions
    carol: str  # a user key the revocation test revokes
    carol_key_id: str


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with (
        fresh_database(request.param, workdir) as url,
        live_server(url, workdir, wait=False) as server,
    ):
        tenant = server.cli("tenant", "create", "e2e")["name"]
        alice, service, carol = server.cli_all(
            ("key", "create", "--tenant", tenant, "--user", "alice"),
            ("key", "create", "--tenant", tenant, "--user", "backend", "--service",
             "--scope", "sessions:read"),
            ("key", "create", "--tenant", tenant, "--user", "carol"),
        )  # fmt: skip
        server.wait_until_ready()
        yield Deployment(server, tenant, alice["key"], service["key"], carol["key"], carol["id"])


def sdk(server: LiveServer, bearer_token: str) -> Client:
    config = Config(
        bearer_token=bearer_token, endpoint=server.endpoint, protocol="http",
        read_timeout=10_000, connect_timeout=5_000,
    )  # fmt: skip
    return Client(config)


def append(
    server: LiveServer, key: str, session_id: str, role: str, content: str, **meta: Any
) -> None:
    """Messages stored by the app itself (the native API), as opposed to asked through Chat."""
    response = httpx.post(
        f"{server.base_url}/v1/sessions/{session_id}/messages",
        json={"role": role, "content": content, "metadata": meta},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201, response.text


def test_every_method_works_with_real_data(deployment: Deployment) -> None:
    server, client = deployment.server, sdk(deployment.server, deployment.alice)

    root = client.add_folder(models.AddFolderRequest(folder_name="Energy", parent_folder_id="0"))
    assert root.status_code == 200 and root.body.data.parent_folder_id == "0"
    folder_id = root.body.data.folder_id
    request = models.AddFolderRequest(folder_name="Solar", parent_folder_id=folder_id)
    child = client.add_folder(request).body.data
    assert (child.folder_name, child.current_level) == ("Solar", 2)

    tree = client.get_chat_folder_list().body.data
    energy = next(f for f in tree if f.folder_id == folder_id)
    assert [(f.folder_id, f.folder_name) for f in energy.sub_folders] == [
        (child.folder_id, "Solar")
    ]

    request = models.CreateChatSessionRequest(folder_id=child.folder_id, name="Panel yield")
    created = client.create_chat_session(request).body
    session_id = created.data.session_id
    assert created.request_id and uuid.UUID(session_id)
    append(server, deployment.alice, session_id, "user", "How much do panels yield?")
    append(server, deployment.alice, session_id, "assistant", "About 20%.", references=[REFERENCE])

    request = models.GetChatSessionListRequest(name="PANEL", current_page=1, page_size=5)
    listed = client.get_chat_session_list(request).body.data
    assert (listed.total, listed.total_page, listed.current_page, listed.page_size) == (1, 1, 1, 5)
    item = listed.session_list[0]
    assert (item.session_id, item.name, item.user_id, item.folder_id) == (
        session_id, "Panel yield", "alice", child.folder_id,
    )  # fmt: skip
    assert item.update_time >= item.create_time > 1_600_000_000_000

    chats = client.get_chat_list(models.GetChatListRequest(session_id=session_id)).body.data
    assert chats.total == 1
    pair = chats.chat_list[0]
    assert (pair.question, pair.answer, pair.folder_name) == (
        "How much do panels yield?", "About 20%.", "Solar",
    )  # fmt: skip
    assert pair.ref_doc_list[0].doc_name == "grid.pdf"

    spare = client.add_folder(models.AddFolderRequest(folder_name="Spare")).body.data
    deleted = client.delete_folder(models.DeleteFolderRequest(folder_id=spare.folder_id))
    assert deleted.body.data is True
    remaining = {f.folder_id for f in client.get_chat_folder_list().body.data}
    assert spare.folder_id not in remaining and folder_id in remaining


def expect_error(call: Any, status: int, code: str) -> ClientException:
    with pytest.raises(ClientException) as raised:
        call()
    assert (raised.value.status_code, raised.value.code) == (status, code)
    assert raised.value.request_id and raised.value.request_id != "None"
    return raised.value


def test_errors_surface_as_client_exceptions_with_our_code(deployment: Deployment) -> None:
    server, client = deployment.server, sdk(deployment.server, deployment.alice)
    unknown = str(uuid.uuid4())
    expect_error(lambda: client.get_chat_list(models.GetChatListRequest()), 400, "MissingParameter")
    too_big = models.GetChatSessionListRequest(page_size=101)
    expect_error(lambda: client.get_chat_session_list(too_big), 400, "InvalidParameter.PageSize")
    expect_error(
        lambda: client.get_chat_list(models.GetChatListRequest(session_id=unknown)),
        404, "InvalidSessionId.NotFound",
    )  # fmt: skip
    missing = expect_error(
        lambda: client.delete_folder(models.DeleteFolderRequest(folder_id=unknown)),
        404, "InvalidFolderId.NotFound",
    )  # fmt: skip
    assert "The folder does not exist" in missing.message
    client.add_folder(models.AddFolderRequest(folder_name="Twice"))
    twice = models.AddFolderRequest(folder_name="Twice")
    expect_error(lambda: client.add_folder(twice), 409, "OperationConflict")

    for_bob = models.GetChatSessionListRequest(user_id="bob")
    denied = expect_error(lambda: client.get_chat_session_list(for_bob), 403, "Forbidden.RAM")
    assert denied.access_denied_detail["AuthAction"] == "energy:GetChatSessionList"
    service = sdk(server, deployment.service)
    assert service.get_chat_session_list(for_bob).body.data.total == 0
    create_for_bob = models.CreateChatSessionRequest(user_id="bob")
    denied = expect_error(lambda: service.create_chat_session(create_for_bob), 403, "Forbidden.RAM")
    assert denied.access_denied_detail["AuthAction"] == "energy:CreateChatSession"

    stranger = sdk(server, "ck_000000000000" + "x" * 40)
    expect_error(stranger.get_chat_folder_list, 401, "InvalidBearerToken.NotFound")


def test_a_revoked_key_is_refused(deployment: Deployment) -> None:
    server, client = deployment.server, sdk(deployment.server, deployment.carol)
    request = models.GetChatSessionListRequest()
    assert client.get_chat_session_list(request).body.data.total == 0
    run_cli(server.env, "key", "revoke", deployment.carol_key_id)
    expect_error(lambda: client.get_chat_session_list(request), 401, "InvalidBearerToken.Revoked")
