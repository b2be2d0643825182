"""One verb (create, list, read, update, delete, append) in each dialect's own wire format.

Each returns the reply and, where the verb succeeded, what the dialect names: ids as
``(int_id | None, uuid | None)``, lists as the set of session UUIDs or integer ids.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.security.harness import Cred, Harness, Reply

NATIVE = "/v1/sessions"
AISQUARE = "/api/v1/qllm/chat-sessions"
AIDOC = "/api/v2/aidoc/document/chat"

CHAT_STREAM = "/api/v1/qllm/chat-stream"

# Verbs each dialect offers (AI-doc has no session update, delete or append, and reads an
# answer back only as a pair of GetChatList). "ask" answers a question, "answer" reads an
# answer back.
VERBS = {
    "native": ("create", "list", "read", "update", "delete", "append", "ask", "answer"),
    "aisquare": ("create", "list", "read", "update", "delete", "append", "ask", "answer"),
    "aidoc": ("create", "list", "read", "ask"),
}
_REST = {"create": 201, "list": 200, "read": 200, "update": 200, "delete": 204, "append": 201,
         "ask": 200, "answer": 200}  # fmt: skip
SUCCESS = {
    "native": _REST,
    "aisquare": _REST,
    "aidoc": {"create": 200, "list": 200, "read": 200, "ask": 200},
}


def create(h: Harness, c: Cred, form: str, dialect: str, user: str | None, title: str) -> Reply:
    if dialect == "native":
        body: dict[str, Any] = {"title": title} | ({"user_id": user} if user else {})
        return h.send(c, form, "POST", NATIVE, body=body)
    if dialect == "aisquare":
        query = {"user_id": user} if user else None
        return h.send(c, form, "POST", f"{AISQUARE}/", query=query, body={"title": title})
    body = {"name": title} | ({"userId": user} if user else {})
    return h.send(c, form, "POST", f"{AIDOC}/session/create", body=body)


def created_ids(dialect: str, reply: Reply) -> tuple[int | None, uuid.UUID | None]:
    if dialect == "native":
        return reply.body["int_id"], uuid.UUID(reply.body["id"])
    if dialect == "aisquare":
        return reply.body["id"], None
    return None, uuid.UUID(reply.body["data"]["sessionId"])


def list_(h: Harness, c: Cred, form: str, dialect: str, user: str | None) -> Reply:
    if dialect == "native":
        query = {"limit": "100"} | ({"user_id": user} if user else {})
        return h.send(c, form, "GET", NATIVE, query=query)
    if dialect == "aisquare":
        return h.send(c, form, "GET", f"{AISQUARE}/", query={"user_id": user} if user else None)
    body: dict[str, Any] = {"pageSize": 100} | ({"userId": user} if user else {})
    return h.send(c, form, "POST", f"{AIDOC}/session/list", body=body)


def listed(dialect: str, reply: Reply) -> set[Any]:
    """UUIDs (native, AI-doc) or integer ids (AISquare) of the listed sessions."""
    if dialect == "native":
        assert reply.body["has_more"] is False
        return {uuid.UUID(s["id"]) for s in reply.body["data"]}
    if dialect == "aisquare":
        return {s["id"] for s in reply.body}
    data = reply.body["data"]
    assert data["total"] == len(data["sessionList"])
    return {uuid.UUID(s["sessionId"]) for s in data["sessionList"]}


def by_id(
    h: Harness, c: Cred, form: str, dialect: str, verb: str, ids: tuple[int, uuid.UUID], arg: str
) -> Reply:
    """read, update (title), delete or append (content) one session."""
    int_id, uid = ids
    if dialect == "aidoc":
        assert verb == "read"
        body = {"sessionId": str(uid), "pageSize": 100}
        return h.send(c, form, "POST", f"{AIDOC}/list", body=body)
    path = f"{NATIVE}/{uid}" if dialect == "native" else f"{AISQUARE}/{int_id}/"
    if verb == "read":
        return h.send(c, form, "GET", path)
    if verb == "update":
        return h.send(c, form, "PATCH", path, body={"title": arg})
    if verb == "delete":
        return h.send(c, form, "DELETE", path)
    messages = f"{path}/messages" if dialect == "native" else f"{path}messages/"
    return h.send(c, form, "POST", messages, body={"role": "user", "content": arg})


def ask(
    h: Harness, c: Cred, form: str, dialect: str, ids: tuple[int, uuid.UUID], prompt: str
) -> Reply:
    """Ask in a session: native answers, AISquare's chat stream (both streamed), AI-doc's
    Chat (one JSON ChatItem once the answer is finished)."""
    int_id, uid = ids
    if dialect == "aidoc":
        return h.send(c, form, "POST", AIDOC, body={"sessionId": str(uid), "question": prompt})
    if dialect == "native":
        return h.send(c, form, "POST", f"{NATIVE}/{uid}/answers", body={"question": prompt})
    return h.send(c, form, "POST", f"{CHAT_STREAM}/{int_id}/", body={"prompt": prompt})


def asked(reply: Reply) -> uuid.UUID:
    """The answer a successful ask started (its first event names it in both dialects)."""
    return uuid.UUID(reply.body[0]["answer_id"])


def answer(
    h: Harness, c: Cred, form: str, dialect: str, ids: tuple[int, uuid.UUID], answer_id: uuid.UUID
) -> Reply:
    """Read an answer back: native as JSON, AISquare by re-attaching to its chat stream."""
    if dialect == "native":
        return h.send(c, form, "GET", f"/v1/answers/{answer_id}")
    return h.send(c, form, "GET", f"{CHAT_STREAM}/{ids[0]}/{answer_id}/")


def answered(dialect: str, reply: Reply) -> tuple[str, str]:
    """(status, content) of an answer read back."""
    if dialect == "native":
        return reply.body["status"], reply.body["content"]
    complete = next(f for f in reply.body if f["type"] == "complete")
    return complete["status"], complete["content"]


def read_back(dialect: str, reply: Reply) -> tuple[str, int]:
    """(title, count) as the dialect shows them: native counts messages, AI-doc Q&A pairs
    (one per user message, its answers joined in); -1 where it shows no count."""
    if dialect == "native":
        return reply.body["title"], reply.body["message_count"]
    if dialect == "aisquare":
        return reply.body["title"], -1
    return "", reply.body["data"]["total"]


def scopes_for(dialect: str, verb: str) -> tuple[str, ...]:
    if verb == "read" and dialect == "aidoc":
        return ("sessions:read", "messages:read")  # GetChatList reads the session's messages
    return {
        "create": ("sessions:write",),
        "list": ("sessions:read",),
        "read": ("sessions:read",),
        "update": ("sessions:write",),
        "delete": ("sessions:write",),
        "append": ("messages:write",),
        "ask": ("messages:write",),
        "answer": ("messages:read",),
    }[verb]


def shape(reply: Reply, *ids: object) -> tuple[int, Any]:
    """A refusal without what may differ per request: request ids and the named id itself."""
    body = reply.body
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k != "requestId"}
    text = repr(body)
    for named in map(str, ids):  # whole tokens only: "/v1/" must survive an id of 1
        text = re.sub(rf"(?<![\w-]){re.escape(named)}(?![\w-])", "<id>", text)
    return reply.status, text
