"""knowledge: documents, their bytes, chunks, ingestion jobs and the full-text index

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02 18:35:21

The full-text index differs per database and is not in the models (docs/decisions.md,
"Knowledge"): on SQLite an FTS5 table whose rowid is the chunk's id (Porter-stemmed
unicode61 tokens over text that jieba has already cut into words), emptied by a trigger
when a chunk goes (cascades included); on PostgreSQL a table of ``tsvector`` values
('english' configuration over the same cut text) with a GIN index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import chatkeep.db.types

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("domain_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("text_chars", sa.Integer(), nullable=True),
        sa.Column("parse_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'parsing', 'ready', 'failed')", name=op.f("ck_documents_status")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["domains.id"],
            name=op.f("fk_documents_domain_id_domains"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_documents_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_documents")),
        sa.UniqueConstraint("id", name=op.f("uq_documents_id")),
        sa.UniqueConstraint(
            "tenant_id", "domain_id", "sha256", name=op.f("uq_documents_tenant_id_domain_id_sha256")
        ),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_domain_id"), ["domain_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_documents_tenant_id_domain_id_number"),
            ["tenant_id", "domain_id", "number"],
            unique=False,
        )

    op.create_table(
        "chunks",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("uuid", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "document_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("page_start", sa.Integer(), nullable=True),
        sa.Column("page_end", sa.Integer(), nullable=True),
        sa.Column("char_start", sa.Integer(), nullable=False),
        sa.Column("char_end", sa.Integer(), nullable=False),
        sa.Column("heading_path", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_number"],
            ["documents.number"],
            name=op.f("fk_chunks_document_number_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chunks")),
        sa.UniqueConstraint("document_number", "seq", name=op.f("uq_chunks_document_number_seq")),
        sa.UniqueConstraint("uuid", name=op.f("uq_chunks_uuid")),
    )
    op.create_table(
        "document_contents",
        sa.Column(
            "document_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_number"],
            ["documents.number"],
            name=op.f("fk_document_contents_document_number_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_number", name=op.f("pk_document_contents")),
    )
    op.create_table(
        "ingest_jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("tenant_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "document_number", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("available_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", chatkeep.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_number"],
            ["documents.number"],
            name=op.f("fk_ingest_jobs_document_number_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_jobs")),
        sa.UniqueConstraint("document_number", name=op.f("uq_ingest_jobs_document_number")),
    )
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ingest_jobs_available_at"), ["available_at"], unique=False
        )

    _create_search_index(op.get_bind().dialect.name)


def _create_search_index(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE chunk_search USING fts5("
            "words, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER chunk_search_forget AFTER DELETE ON chunks BEGIN "
            "DELETE FROM chunk_search WHERE rowid = old.id; END"
        )
        return
    op.execute(
        "CREATE TABLE chunk_search ("
        "chunk_id BIGINT PRIMARY KEY REFERENCES chunks (id) ON DELETE CASCADE, "
        "tenant_id BIGINT NOT NULL, words TSVECTOR NOT NULL)"
    )
    op.execute("CREATE INDEX chunk_search_words ON chunk_search USING gin (words)")
    # Original files are mostly compressed already (PDF, DOCX): don't try again.
    op.execute("ALTER TABLE document_contents ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER chunk_search_forget")
    op.execute("DROP TABLE chunk_search")
    with op.batch_alter_table("ingest_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_jobs_available_at"))

    op.drop_table("ingest_jobs")
    op.drop_table("document_contents")
    op.drop_table("chunks")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_tenant_id_domain_id_number"))
        batch_op.drop_index(batch_op.f("ix_documents_domain_id"))

    op.drop_table("documents")
