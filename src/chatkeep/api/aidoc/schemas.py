"""AI-doc wire shapes: camelCase, integer-millisecond times, ``{"requestId", "data"}``.

Requests take no type coercion (``"1"`` is not a page number) and ignore unknown fields,
so newer SDK versions that send more keep working.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from chatkeep.core.limits import PAGE_MAX
from chatkeep.core.models import NAME_MAX, TITLE_MAX, USER_ID_MAX
from chatkeep.core.types import DomainRecord, SessionRecord

T = TypeVar("T")
PAGE_SIZE_DEFAULT = 10
PAGE_SIZE_MAX = PAGE_MAX  # 100
FOLDER_ID_MAX = 36  # a UUID's text
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(moment: datetime) -> int:
    """A UNIX timestamp in integer milliseconds (exact: no float rounding)."""
    return (moment - _EPOCH) // timedelta(milliseconds=1)


class AidocModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


UserId = Annotated[
    StrictStr | None,
    Field(
        max_length=USER_ID_MAX,
        description="Empty: the credential's own user. Another user: service credentials only.",
    ),
]
CurrentPage = Annotated[StrictInt, Field(ge=1, description="1-based.")]
PageSize = Annotated[StrictInt, Field(ge=1, le=PAGE_SIZE_MAX, description="At most 100.")]


class Envelope(AidocModel, Generic[T]):
    request_id: str
    data: T


# --- requests -------------------------------------------------------------------------


class SessionListRequest(AidocModel):
    name: StrictStr | None = Field(
        default=None, max_length=TITLE_MAX, description="Case-insensitive literal substring."
    )
    user_id: UserId = None
    current_page: CurrentPage = 1
    page_size: PageSize = PAGE_SIZE_DEFAULT


class CreateSessionRequest(AidocModel):
    folder_id: uuid.UUID | None = Field(default=None, description="Default: the default folder.")
    name: StrictStr = Field(default="", max_length=TITLE_MAX)
    user_id: UserId = None


class ChatListRequest(AidocModel):
    session_id: uuid.UUID
    current_page: CurrentPage = 1
    page_size: PageSize = PAGE_SIZE_DEFAULT


class AddFolderRequest(AidocModel):
    folder_name: StrictStr = Field(max_length=NAME_MAX)
    parent_folder_id: StrictStr | None = Field(
        default=None, max_length=FOLDER_ID_MAX, description='"0" or empty: the root.'
    )


# --- responses ------------------------------------------------------------------------


class SessionItem(AidocModel):
    session_id: str
    name: str
    user_id: str
    folder_id: str
    create_time: int
    update_time: int

    @classmethod
    def of(cls, s: SessionRecord) -> SessionItem:
        return cls(
            session_id=str(s.uuid), name=s.title, user_id=s.user_id, folder_id=str(s.domain_id),
            create_time=millis(s.created_at), update_time=millis(s.updated_at),
        )  # fmt: skip


class SessionListData(AidocModel):
    session_list: list[SessionItem]
    total: int
    total_page: int = Field(description="ceil(total / pageSize)")
    current_page: int
    page_size: int


class ChatItem(AidocModel):
    question: str
    answer: str
    create_time: int
    folder_id: str
    folder_name: str
    ref_doc_list: list[dict[str, Any]]


class ChatListData(AidocModel):
    chat_list: list[ChatItem]
    total: int
    total_page: int
    current_page: int
    page_size: int


class CreatedSession(AidocModel):
    session_id: str


class ChatFolderItem(AidocModel):
    folder_id: str
    folder_name: str
    sub_folders: list[ChatFolderItem]


class FolderItem(AidocModel):
    folder_id: str
    folder_name: str
    parent_folder_id: str = Field(description='"0" for a top-level folder.')
    current_level: int = Field(description="1 for a top-level folder.")
    folder_default: int = Field(description="1 for the tenant's default folder.")
    sub_folder_list: list[FolderItem]

    @classmethod
    def of(cls, d: DomainRecord, level: int) -> FolderItem:
        return cls(
            folder_id=str(d.id), folder_name=d.name,
            parent_folder_id=str(d.parent_id) if d.parent_id else "0",
            current_level=level, folder_default=int(d.is_default), sub_folder_list=[],
        )  # fmt: skip


def total_pages(total: int, page_size: int) -> int:
    return -(-total // page_size)
