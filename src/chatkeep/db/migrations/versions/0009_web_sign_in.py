"""web sign-in: one-time login tokens and browser sessions

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-02 18:50:00

Both tables store only a SHA-256 of their token, found by a non-secret lookup prefix
(the api_keys pattern); each primary key leads with tenant_id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chatkeep.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _token_table(name: str, spent_column: str) -> None:
    op.create_table(
        name,
        sa.Column("tenant_id", _BIGINT, nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_pk", _BIGINT, nullable=False),
        sa.Column("lookup", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(spent_column, chatkeep.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f(f"fk_{name}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.id"], name=op.f(f"fk_{name}_user_pk_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint("lookup", name=op.f(f"uq_{name}_lookup")),
    )  # fmt: skip


def upgrade() -> None:
    _token_table("web_login_tokens", "used_at")
    _token_table("web_sessions", "revoked_at")


def downgrade() -> None:
    op.drop_table("web_sessions")
    op.drop_table("web_login_tokens")
