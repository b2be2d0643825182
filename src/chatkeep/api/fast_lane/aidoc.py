"""AI-doc's GetChatSessionList, the common form: a bearer key, a JSON page request of the
key's own user, without ``name``."""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from chatkeep.api.aidoc.deps import BEARER_TOKEN_HEADER
from chatkeep.api.aidoc.errors import REQUEST_ID_HEADER, new_request_id
from chatkeep.api.aidoc.schemas import Envelope, SessionListRequest
from chatkeep.api.aidoc.sessions import session_list_data
from chatkeep.api.fast_lane.lane import Answer, FallThrough, HotRequest, HotRoute
from chatkeep.core.auth import require
from chatkeep.core.repository import hot_lists
from chatkeep.core.repository.sessions import to_record
from chatkeep.core.types import OffsetPage, Scope

LIST_PATH = "/api/v2/aidoc/document/chat/session/list"


def _token(request: HotRequest) -> str:
    """As ``api.aidoc.deps``: a Bearer ``Authorization`` wins, else the SDK's bearer header;
    a signature (or anything else) falls through."""
    authorization = (request.header(b"authorization") or b"").decode("latin-1").strip()
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise FallThrough
        return token.strip()
    bearer = (request.header(BEARER_TOKEN_HEADER.encode()) or b"").decode("latin-1").strip()
    if not bearer:
        raise FallThrough
    return bearer


def _page_request(request: HotRequest) -> SessionListRequest:
    try:
        body = SessionListRequest.model_validate_json(request.json_body())
    except ValidationError:
        raise FallThrough from None  # the full path says why
    if body.name:  # a title search reads every title of the user: the full path
        raise FallThrough
    return body


async def get_chat_session_list(request: HotRequest) -> Answer:
    token = _token(request)
    body = _page_request(request)
    offset = (body.current_page - 1) * body.page_size
    async with request.lane.reads.snapshot() as read:  # the total and its page agree
        principal = await request.authenticate(read, token)
        require(principal, Scope.SESSIONS_READ, "list sessions")
        if body.user_id and body.user_id != principal.user_id:
            raise FallThrough  # acting for another user: the full path decides
        user = {"tenant_id": principal.tenant_id, "user_pk": principal.user_pk}
        total = int((await read.fetch(hot_lists.COUNTED, user))[0][0])
        found = []
        if offset < total:  # no offset past the end (or past 64 bits)
            page = {**user, "offset": offset, "limit": body.page_size}
            found = await read.fetch(hot_lists.UPDATED_PAGE, page)
    await request.admit(principal)
    records = [to_record(r, principal.user_id) for r in found]
    data = session_list_data(OffsetPage(records, total), body)
    rid = new_request_id()
    envelope = Envelope(request_id=rid, data=data).model_dump(mode="json", by_alias=True)
    try:
        encoded = orjson.dumps(envelope)
    except orjson.JSONEncodeError:  # a currentPage past 64 bits: the full path's encoder
        raise FallThrough from None
    return Answer(encoded, [(REQUEST_ID_HEADER.encode(), rid.encode())])


ROUTES = [HotRoute("POST", LIST_PATH, get_chat_session_list)]
