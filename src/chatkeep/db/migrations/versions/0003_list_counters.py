"""list counters: per-user session counts, Q&A pair counts, covering list indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:30:00

- ``session_counts``: sessions per (tenant, user, archived, domain), so list totals are
  a few-row sum instead of a COUNT(*) over the user's sessions; backfilled here.
- ``sessions.qa_pair_count``: AI-doc Q&A pairs per session, kept at append; backfilled.
- ``ix_sessions_updated`` gains ``title`` as its last column, so AI-doc's name filter is
  answered from the index alone; ``messages`` gets a (shard key, session, role, id) index
  to find where a Q&A pair starts.

The backfills are plain set-based SQL (frozen here, not the app's code, so this
migration means the same thing forever).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

BACKFILL_SESSION_COUNTS = """
INSERT INTO session_counts (tenant_id, user_pk, archived, domain_id, sessions)
SELECT tenant_id, user_pk, archived, domain_id, COUNT(*)
FROM sessions GROUP BY tenant_id, user_pk, archived, domain_id
"""

BACKFILL_QA_PAIRS = """
UPDATE sessions SET qa_pair_count = agg.questions + CASE
    WHEN agg.first_answer IS NOT NULL
     AND (agg.first_question IS NULL OR agg.first_answer < agg.first_question) THEN 1
    ELSE 0 END
FROM (
    SELECT session_id,
           SUM(CASE WHEN role = 'user' THEN 1 ELSE 0 END) AS questions,
           MIN(CASE WHEN role = 'user' THEN id END) AS first_question,
           MIN(CASE WHEN role = 'assistant' THEN id END) AS first_answer
    FROM messages GROUP BY session_id
) AS agg
WHERE sessions.id = agg.session_id
"""


def upgrade() -> None:
    op.create_table(
        "session_counts",
        sa.Column("tenant_id", _ID, nullable=False),
        sa.Column("user_pk", _ID, nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("domain_id", sa.Uuid(), nullable=False),
        sa.Column("sessions", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_session_counts_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_session_counts_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"],
            ["users.id"],
            name=op.f("fk_session_counts_user_pk_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "user_pk", "archived", "domain_id", name=op.f("pk_session_counts")
        ),
    )
    with op.batch_alter_table("session_counts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_session_counts_domain_id"), ["domain_id"])

    # Plain ALTERs (no table rebuild on SQLite): add a defaulted column, swap two indexes.
    op.add_column(
        "sessions", sa.Column("qa_pair_count", sa.Integer(), server_default="0", nullable=False)
    )
    op.drop_index("ix_sessions_updated", table_name="sessions")
    op.create_index(
        "ix_sessions_updated",
        "sessions",
        ["tenant_id", "user_pk", "archived", "updated_at", "id", "title"],
    )
    op.create_index(
        op.f("ix_messages_tenant_id_user_pk_session_id_role_id"),
        "messages",
        ["tenant_id", "user_pk", "session_id", "role", "id"],
    )

    op.execute(BACKFILL_SESSION_COUNTS)
    op.execute(BACKFILL_QA_PAIRS)


def downgrade() -> None:
    op.drop_index(op.f("ix_messages_tenant_id_user_pk_session_id_role_id"), table_name="messages")
    op.drop_index("ix_sessions_updated", table_name="sessions")
    op.create_index(
        "ix_sessions_updated", "sessions", ["tenant_id", "user_pk", "archived", "updated_at", "id"]
    )
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("qa_pair_count")
    with op.batch_alter_table("session_counts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_counts_domain_id"))
    op.drop_table("session_counts")
