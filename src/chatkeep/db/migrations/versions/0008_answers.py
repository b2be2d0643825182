"""answers: generated answers to questions, and their replayable events

Revision ID: 0008
Revises: 0005
Create Date: 2026-12-02 18:50:00

``answers`` holds one row per generated answer (alternatives share a question message);
``answer_events`` the answer's numbered events, which any worker replays to a reader.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("user_pk", sa.BigInteger(), nullable=False),
        sa.Column(
            "session_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "question_message_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("model", sa.String(length=255), nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=True),
        sa.Column("completion_tokens", sa.Integer(), nullable=True),
        sa.Column("refs", sa.JSON(), nullable=False),
        sa.Column("document_ids", sa.JSON(), nullable=True),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_token_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'complete', 'cancelled', 'failed', 'incomplete')",
            name=op.f("ck_answers_status"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_answers_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_message_id"],
            ["messages.id"],
            name=op.f("fk_answers_question_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_answers_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
    )
    op.create_index(
        "ix_answers_question", "answers", ["tenant_id", "question_message_id", "created_at", "id"]
    )
    op.create_index("ix_answers_message", "answers", ["tenant_id", "message_id"])
    op.create_index(
        "uq_answers_one_running_per_session", "answers", ["tenant_id", "session_id"],
        unique=True, sqlite_where=_RUNNING, postgresql_where=_RUNNING,
    )  # fmt: skip
    op.create_index(
        "ix_answers_running_credential", "answers", ["tenant_id", "credential_id"],
        sqlite_where=_RUNNING, postgresql_where=_RUNNING,
    )  # fmt: skip
    op.create_index(
        "ix_answers_running_lease", "answers", ["lease_expires_at"],
        sqlite_where=_RUNNING, postgresql_where=_RUNNING,
    )  # fmt: skip
    op.create_table(
        "answer_events",
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("answer_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_answer_events_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "answer_id", "seq", name=op.f("pk_answer_events")),
    )


def downgrade() -> None:
    op.drop_table("answer_events")
    op.drop_table("answers")
