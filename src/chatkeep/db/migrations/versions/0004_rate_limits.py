"""rate limits: one fixed-window request counter per credential

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:40:00

UNLOGGED on PostgreSQL: counters are rewritten on every request and worthless after a
crash, so they skip the write-ahead log (and its fsync) entirely.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "rate_limits",
        sa.Column("credential_id", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("credential_id", name=op.f("pk_rate_limits")),
        prefixes=["UNLOGGED"] if postgres else [],
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
