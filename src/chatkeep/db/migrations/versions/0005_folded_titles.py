"""folded titles: sessions.title_folded = lower(title), in the name-search index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 23:58:00

A generated column (STORED on PostgreSQL, which rewrites the table once; VIRTUAL on
SQLite, where ALTER TABLE can add only that kind), then ``ix_sessions_updated`` rebuilt
to carry it after ``title``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BEFORE = ["tenant_id", "user_pk", "archived", "updated_at", "id", "title"]


def upgrade() -> None:
    stored = op.get_bind().dialect.name != "sqlite"
    op.add_column(
        "sessions",
        sa.Column(
            "title_folded", sa.String(length=512), sa.Computed("lower(title)", persisted=stored)
        ),
    )
    op.drop_index("ix_sessions_updated", table_name="sessions")
    op.create_index("ix_sessions_updated", "sessions", [*_BEFORE, "title_folded"])


def downgrade() -> None:
    op.drop_index("ix_sessions_updated", table_name="sessions")
    op.create_index("ix_sessions_updated", "sessions", _BEFORE)
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("title_folded")
