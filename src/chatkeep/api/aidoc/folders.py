"""GetChatFolderList, AddFolder, DeleteFolder: folders are the tenant's domains."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from chatkeep.api.aidoc.deps import AidocPrincipal, RequestId, records_a_nonce
from chatkeep.api.aidoc.errors import invalid_parameter
from chatkeep.api.aidoc.route import AidocRoute
from chatkeep.api.aidoc.schemas import AddFolderRequest, ChatFolderItem, Envelope, FolderItem
from chatkeep.api.deps import DbUnit, reads_only
from chatkeep.core import domains
from chatkeep.core.types import DomainRecord

ROOT_FOLDER_ID = "0"  # Alibaba's parentFolderId for a top-level folder

router = APIRouter(route_class=AidocRoute)


@router.post(
    "/api/v2/aidoc/document/chat/folder/list",
    name="GetChatFolderList",
    summary="The tenant's folder tree",
)
@reads_only(unless=records_a_nonce)
async def get_chat_folder_list(
    uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Envelope[list[ChatFolderItem]]:
    return Envelope(request_id=rid, data=folder_tree(await domains.domain_tree(uow, principal)))


@router.post("/api/v1/aidoc/folder/add", name="AddFolder", summary="Create a folder")
async def add_folder(
    body: AddFolderRequest, uow: DbUnit, principal: AidocPrincipal, rid: RequestId
) -> Envelope[FolderItem]:
    parent_id = parse_parent_folder_id(body.parent_folder_id)
    created = await domains.create_domain(uow, principal, body.folder_name, parent_id)
    level = depth(await domains.domain_tree(uow, principal), created.id)
    return Envelope(request_id=rid, data=FolderItem.of(created, level))


@router.delete(
    "/api/v1/aidoc/folder/delete",
    name="DeleteFolder",
    summary="Delete a folder and its sub-folders",
    description="Refused (409 OperationConflict) for the default folder, or while any of "
    "the folders still holds sessions.",
)
async def delete_folder(
    folder_id: Annotated[uuid.UUID, Query(alias="folderId")],
    uow: DbUnit,
    principal: AidocPrincipal,
    rid: RequestId,
) -> Envelope[bool]:
    await domains.delete_domain(uow, principal, folder_id)
    return Envelope(request_id=rid, data=True)


def parse_parent_folder_id(raw: str | None) -> uuid.UUID | None:
    if raw is None or raw in ("", ROOT_FOLDER_ID):
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise invalid_parameter("parentFolderId", 'a folder ID, or "0" for the root.') from None


def folder_tree(records: list[DomainRecord]) -> list[ChatFolderItem]:
    """Nest the flat, name-ordered list; siblings stay ordered by name."""
    children: dict[uuid.UUID | None, list[DomainRecord]] = {}
    for record in records:
        children.setdefault(record.parent_id, []).append(record)

    def node(d: DomainRecord) -> ChatFolderItem:
        subs = [node(c) for c in children.get(d.id, [])]
        return ChatFolderItem(folder_id=str(d.id), folder_name=d.name, sub_folders=subs)

    return [node(d) for d in children.get(None, [])]


def depth(records: list[DomainRecord], folder_id: uuid.UUID) -> int:
    """1 for a top-level folder (the core bounds nesting, so this ends)."""
    parents = {d.id: d.parent_id for d in records}
    level, node = 1, parents.get(folder_id)
    while node is not None:
        level, node = level + 1, parents.get(node)
    return level
