"""The one data model under every interface (see DESIGN.md, "Concepts").

Every hot table carries ``tenant_id`` and, where it belongs to a user, ``user_pk``, and
every list index starts with them: that is the key the schema shards by.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from chatkeep.db.types import BigIntPK, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TITLE_MAX = 512
NAME_MAX = 255
USER_ID_MAX = 128
IDEMPOTENCY_KEY_MAX = 255
MESSAGE_ROLES = ("user", "assistant", "system", "tool")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("tenant_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    # The tenant's own name for the user ("12222"): `user_id` on every wire format.
    external_id: Mapped[str] = mapped_column(String(USER_ID_MAX))
    created_at: Mapped[datetime]


class Domain(Base):
    """A knowledge scope (Alibaba: folder). Domains form a tree per tenant."""

    __tablename__ = "domains"
    __table_args__ = (Index(None, "tenant_id", "parent_id", "name"),)

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    parent_id: Mapped[UUID | None] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# The title search's trigram index (migration 0010) differs per database and is not a
# model: SQLite's FTS5 table, its shadow tables and the view it reads; PostgreSQL's GIN.
TITLE_TRIGRAMS = "session_title_trigrams"
TITLE_TRIGRAMS_INDEX = "ix_sessions_title_trigrams"


def is_title_trigrams(name: str) -> bool:
    return name.startswith(TITLE_TRIGRAMS) or name == TITLE_TRIGRAMS_INDEX


class ChatSession(Base):
    """One conversation of one user in one domain.

    Three clocks stay apart: ``last_message_at`` moves only on append, ``updated_at`` on
    any change, ``pinned_at`` on pin. ``recent_at`` is the "recent" order's sort key,
    kept by the service: ``pinned_at`` while pinned, otherwise the last activity
    (``last_message_at``, or ``created_at`` before the first message).
    """

    __tablename__ = "sessions"
    __table_args__ = (
        # One index per list order, each led by the shard key and the archived filter.
        Index(
            "ix_sessions_recent",
            "tenant_id", "user_pk", "archived", "is_pinned", "recent_at", "id",
        ),
        Index(
            "ix_sessions_domain_recent",
            "tenant_id", "user_pk", "domain_id", "archived", "is_pinned", "recent_at", "id",
        ),
        Index("ix_sessions_created", "tenant_id", "user_pk", "archived", "created_at", "id"),
        Index("ix_sessions_title", "tenant_id", "user_pk", "archived", "title", "id"),
        # The titles last (after the unique id, so they change no order): AI-doc's
        # name-filtered page and total are answered from this index alone (SQLite
        # searches title, PostgreSQL title_folded; see repository/dialect.py).
        Index(
            "ix_sessions_updated",
            "tenant_id", "user_pk", "archived", "updated_at", "id", "title", "title_folded",
        ),
        Index(None, "domain_id"),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    uuid: Mapped[UUID] = mapped_column(Uuid, unique=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    domain_id: Mapped[UUID] = mapped_column(ForeignKey("domains.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    # lower(title), computed by the database (so bulk loads get it too): PostgreSQL's
    # title search compares it instead of calling lower() on every title per request.
    # (Migration 0005 makes it VIRTUAL on SQLite, where ALTER TABLE cannot add STORED.)
    title_folded: Mapped[str] = mapped_column(
        String(TITLE_MAX), Computed("lower(title)", persisted=True)
    )
    system_context: Mapped[str] = mapped_column(Text, default="")
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned_at: Mapped[datetime | None]
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_message_at: Mapped[datetime | None]
    recent_at: Mapped[datetime]
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # AI-doc Q&A pairs (see core/qa_pairs.py): one per user message, plus one if an
    # assistant message came before the first. Kept at append, so GetChatList pages
    # without reading the session's messages to count them.
    qa_pair_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)


class SessionCount(Base):
    """How many sessions a user has per (archived, domain): list totals without COUNT(*).

    Kept in the same transaction as every create, delete, archive or move (atomic
    ``sessions = sessions + n`` upserts); ``repository.counters.rebuild_counters``
    recomputes it from the sessions table. A user's total is the sum of their few rows
    (one per domain used), so its cost does not grow with the number of sessions.
    """

    __tablename__ = "session_counts"
    __table_args__ = (Index(None, "domain_id"),)  # for the domain's cascading delete

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    user_pk: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    archived: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    domain_id: Mapped[UUID] = mapped_column(
        ForeignKey("domains.id", ondelete="CASCADE"), primary_key=True
    )
    sessions: Mapped[int] = mapped_column(BigInteger)


class Message(Base):
    """One turn of a session. Carries the shard key so its rows live beside the session's."""

    __tablename__ = "messages"
    __table_args__ = (
        # Led by the shard key; the unique (session_id, idempotency_key) index below also
        # serves the session foreign key (cascading deletes).
        Index(None, "tenant_id", "user_pk", "session_id", "id"),
        # A session's questions in order: where Q&A pair N starts, found in the index.
        Index(None, "tenant_id", "user_pk", "session_id", "role", "id"),
        UniqueConstraint("session_id", "idempotency_key"),
        CheckConstraint("role IN ('user', 'assistant', 'system', 'tool')", name="role"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    user_pk: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    request_hash: Mapped[str | None] = mapped_column(String(64))


class ApiKey(Base):
    """A bearer credential. Only a SHA-256 of the key is stored; ``lookup`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    lookup: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


ACCESS_KEY_ID_MAX = 32
SIGNATURE_NONCE_MAX = 128


class AccessKey(Base):
    """An Alibaba-style AccessKey pair for V3 signatures.

    The verifier needs the secret itself (an HMAC key), so it cannot be hashed like an
    API key; it is stored only encrypted under a key derived from the server key.
    """

    __tablename__ = "access_keys"

    # The public half (``accessKeyId``): the Credential= value of every signed request.
    id: Mapped[str] = mapped_column(String(ACCESS_KEY_ID_MAX), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AccessKeyNonce(Base):
    """A signature nonce seen from one access key, kept while a replay could still pass.

    The primary key makes a reuse a conflict in every worker and process at once;
    ``expires_at`` (the signed date plus the allowed skew) says when the row may go.
    """

    __tablename__ = "access_key_nonces"
    __table_args__ = (Index(None, "expires_at"),)

    access_key_id: Mapped[str] = mapped_column(
        ForeignKey("access_keys.id", ondelete="CASCADE"), primary_key=True
    )
    nonce: Mapped[str] = mapped_column(String(SIGNATURE_NONCE_MAX), primary_key=True)
    expires_at: Mapped[datetime]


class RateLimitCounter(Base):
    """One credential's requests in its current fixed window (see api/ratelimit.py).

    One row per credential, reset in place when a new window starts, so the table holds
    at most one row per recently active credential. No foreign key: the id may name an
    API key or an access key, and a counter must never block deleting either.
    PostgreSQL keeps it UNLOGGED (migration 0004): counters need no crash safety.
    """

    __tablename__ = "rate_limits"

    credential_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)  # UNIX seconds
    hits: Mapped[int] = mapped_column(Integer)


# The knowledge tables share this metadata (migrations and the schema check see them).
import chatkeep.core.knowledge.models  # noqa: E402, F401

ANSWER_STATUSES = ("running", "complete", "cancelled", "failed", "incomplete")
RUNNING = "running"


class Answer(Base):
    """One generated answer to a question (a user message), kept beside its alternatives.

    The text lives in its assistant message (``message_id``), rewritten as it grows. A
    running answer is owned by one process through a lease it renews; the partial unique
    index allows one running answer per session across every worker.
    """

    __tablename__ = "answers"
    __table_args__ = (
        Index("ix_answers_question", "tenant_id", "question_message_id", "created_at", "id"),
        Index("ix_answers_message", "tenant_id", "message_id"),
        Index(
            "uq_answers_one_running_per_session", "tenant_id", "session_id", unique=True,
            sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'"),
        ),
        Index(
            "ix_answers_running_credential", "tenant_id", "credential_id",
            sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'"),
        ),
        Index(
            "ix_answers_running_lease", "lease_expires_at",
            sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'"),
        ),
        CheckConstraint(
            "status IN ('running', 'complete', 'cancelled', 'failed', 'incomplete')", name="status"
        ),
    )  # fmt: skip

    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    user_pk: Mapped[int] = mapped_column(BigInteger)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    question_message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(NAME_MAX))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    # "references" is an SQL keyword: the column is "refs".
    references: Mapped[list[dict[str, Any]]] = mapped_column("refs", JSON, default=list)
    document_ids: Mapped[list[str] | None] = mapped_column(JSON)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    first_token_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AnswerEvent(Base):
    """An answer's events in order (ids 1, 2, 3...): what any worker replays to a reader."""

    __tablename__ = "answer_events"

    tenant_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    answer_id: Mapped[UUID] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    type: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)  # one line of JSON, sent as it is stored
    created_at: Mapped[datetime]


# --- web UI sign-in (issue 14) ------------------------------------------------------
# Both tables follow api_keys: ``lookup`` (a non-secret prefix of the token) finds the row,
# only a SHA-256 of the whole token is stored. The primary key leads with tenant_id.


class WebLoginToken(Base):
    """A one-time, short-lived sign-in link (``chatkeep login-link``)."""

    __tablename__ = "web_login_tokens"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lookup: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the HttpOnly cookie names it; sign-out revokes it."""

    __tablename__ = "web_sessions"

    tenant_id: Mapped[int] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lookup: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
