from __future__ import annotations

import uuid

import httpx
import pytest

from tests.api.aidoc.wire import (
    FOLDER_ADD,
    FOLDER_DELETE,
    FOLDER_LIST,
    SESSION_CREATE,
    data,
    error,
)
from tests.factories import World

pytestmark = pytest.mark.anyio


async def test_folder_list_is_the_tenants_domain_tree(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    energy = await world.domain(tenant, "Energy")
    solar = await world.domain(tenant, "Solar", parent=energy.id)
    wind = await world.domain(tenant, "Wind", parent=energy.id)
    await world.domain(await world.tenant(), "Elsewhere")
    tree = data(await client.post(FOLDER_LIST, headers=key.headers))
    default_id = tree[0]["folderId"]
    assert tree == [
        {"folderId": default_id, "folderName": "Default", "subFolders": []},
        {
            "folderId": str(energy.id),
            "folderName": "Energy",
            "subFolders": [
                {"folderId": str(solar.id), "folderName": "Solar", "subFolders": []},
                {"folderId": str(wind.id), "folderName": "Wind", "subFolders": []},
            ],
        },
    ]


async def test_add_folder_at_the_root_and_under_a_parent(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    body = {"folderName": "Reports", "parentFolderId": "0"}
    root = data(await client.post(FOLDER_ADD, json=body, headers=key.headers))
    assert root == {
        "folderId": root["folderId"],
        "folderName": "Reports",
        "parentFolderId": "0",
        "currentLevel": 1,
        "folderDefault": 0,
        "subFolderList": [],
    }
    body = {"folderName": "2025", "parentFolderId": root["folderId"]}
    child = data(await client.post(FOLDER_ADD, json=body, headers=key.headers))
    assert (child["parentFolderId"], child["currentLevel"]) == (root["folderId"], 2)
    tree = data(await client.post(FOLDER_LIST, headers=key.headers))
    reports = next(f for f in tree if f["folderName"] == "Reports")
    assert reports["subFolders"] == [
        {"folderId": child["folderId"], "folderName": "2025", "subFolders": []}
    ]
    native = (await client.get(f"/v1/domains/{child['folderId']}", headers=key.headers)).json()
    assert (native["name"], native["parent_id"]) == ("2025", root["folderId"])


async def test_folder_names_are_unique_under_one_parent(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    first = data(await client.post(FOLDER_ADD, json={"folderName": "A"}, headers=key.headers))
    again = await client.post(FOLDER_ADD, json={"folderName": "A"}, headers=key.headers)
    error(again, 409, "OperationConflict")
    body = {"folderName": "A", "parentFolderId": first["folderId"]}
    data(await client.post(FOLDER_ADD, json=body, headers=key.headers))


async def test_add_folder_rejects_bad_input(client: httpx.AsyncClient, world: World) -> None:
    key = await world.key(await world.tenant())
    cases = [
        ({}, 400, "MissingParameter"),
        ({"folderName": "x" * 256}, 400, "InvalidParameter.FolderName"),
        ({"folderName": "   "}, 400, "InvalidParameter.FolderName"),
        ({"folderName": 5}, 400, "InvalidParameter.FolderName"),
        ({"folderName": "a", "parentFolderId": "root"}, 400, "InvalidParameter.ParentFolderId"),
        (
            {"folderName": "a", "parentFolderId": str(uuid.uuid4())},
            404,
            "InvalidParentFolderId.NotFound",
        ),
    ]
    for body, status, code in cases:
        error(await client.post(FOLDER_ADD, json=body, headers=key.headers), status, code)
    assert len(data(await client.post(FOLDER_LIST, headers=key.headers))) == 1


async def test_delete_folder_removes_it_and_its_sub_folders(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    parent = await world.domain(tenant, "Old")
    await world.domain(tenant, "Older", parent=parent.id)
    params = {"folderId": str(parent.id)}
    assert data(await client.delete(FOLDER_DELETE, params=params, headers=key.headers)) is True
    tree = data(await client.post(FOLDER_LIST, headers=key.headers))
    assert [f["folderName"] for f in tree] == ["Default"]
    again = await client.delete(FOLDER_DELETE, params=params, headers=key.headers)
    assert error(again, 404, "InvalidFolderId.NotFound")["message"] == "The folder does not exist."


async def test_another_tenants_folder_does_not_exist(
    client: httpx.AsyncClient, world: World
) -> None:
    other = await world.tenant()
    foreign = await world.domain(other, "Theirs")
    key = await world.key(await world.tenant())
    params = {"folderId": str(foreign.id)}
    response = await client.delete(FOLDER_DELETE, params=params, headers=key.headers)
    assert error(response, 404, "InvalidFolderId.NotFound")["message"] == (
        "The folder does not exist."
    )
    body = {"folderId": str(foreign.id), "name": "sneaky"}
    response = await client.post(SESSION_CREATE, json=body, headers=key.headers)
    error(response, 404, "InvalidFolderId.NotFound")
    owner = await world.key(other)
    assert len(data(await client.post(FOLDER_LIST, headers=owner.headers))) == 2


async def test_a_folder_with_sessions_or_the_default_folder_is_kept(
    client: httpx.AsyncClient, world: World
) -> None:
    tenant = await world.tenant()
    key = await world.key(tenant)
    busy = await world.domain(tenant, "Busy")
    await world.session(key, domain_id=busy.id)
    default_id = data(await client.post(FOLDER_LIST, headers=key.headers))[0]["folderId"]
    for folder_id in (str(busy.id), default_id):
        params = {"folderId": folder_id}
        response = await client.delete(FOLDER_DELETE, params=params, headers=key.headers)
        error(response, 409, "OperationConflict")
    assert len(data(await client.post(FOLDER_LIST, headers=key.headers))) == 2


async def test_delete_folder_needs_a_well_formed_folder_id(
    client: httpx.AsyncClient, world: World
) -> None:
    key = await world.key(await world.tenant())
    error(await client.delete(FOLDER_DELETE, headers=key.headers), 400, "MissingParameter")
    response = await client.delete(FOLDER_DELETE, params={"folderId": "7"}, headers=key.headers)
    error(response, 400, "InvalidParameter.FolderId")
