"""access keys: V3-signature key pairs and the shared nonce record

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:34:48.864373
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chatkeep.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_keys",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user_pk", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_access_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"], ["users.id"], name=op.f("fk_access_keys_user_pk_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_keys")),
    )
    op.create_table(
        "access_key_nonces",
        sa.Column("access_key_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("expires_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["access_key_id"],
            ["access_keys.id"],
            name=op.f("fk_access_key_nonces_access_key_id_access_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("access_key_id", "nonce", name=op.f("pk_access_key_nonces")),
    )
    with op.batch_alter_table("access_key_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_key_nonces_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_key_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_key_nonces_expires_at"))

    op.drop_table("access_key_nonces")
    op.drop_table("access_keys")
