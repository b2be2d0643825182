"""title trigrams: an index for the name search that stays within one user

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:00:00

Per database and not in the models (docs/decisions.md, "Name search by trigrams"):

* PostgreSQL: ``pg_trgm`` and ``btree_gin`` (both trusted extensions: a database owner
  may create them) and one GIN index over ``(tenant_id, user_pk, title_folded)``, so a
  lookup intersects the user's entries with the needle's trigrams instead of reading
  every user's posting lists.
* SQLite: an external-content FTS5 table with the ``trigram`` tokenizer whose rowid is
  ``user_pk << 40 | id`` (read from a view), so one user's hits are one rowid range.
  Triggers keep it in step on insert, delete and a change of title (not on the updates
  every message append makes); existing rows are indexed here.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Keep in step with chatkeep.core.repository.dialect (TITLE_KEY_BITS).
_KEY = "(({row}.user_pk << 40) | {row}.id)"
_ADD = "INSERT INTO session_title_trigrams (rowid, title) VALUES ({key}, new.title);"
_REMOVE = (
    "INSERT INTO session_title_trigrams (session_title_trigrams, rowid, title) "
    "VALUES ('delete', {key}, old.title);"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _create_sqlite()
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(
        "CREATE INDEX ix_sessions_title_trigrams ON sessions "
        "USING gin (tenant_id, user_pk, title_folded gin_trgm_ops)"
    )


def _create_sqlite() -> None:
    new, old = _KEY.format(row="new"), _KEY.format(row="old")
    op.execute(
        "CREATE VIEW session_title_trigrams_keys AS "
        f"SELECT {_KEY.format(row='sessions')} AS search_key, title FROM sessions"
    )
    op.execute(
        "CREATE VIRTUAL TABLE session_title_trigrams USING fts5("
        "title, content = 'session_title_trigrams_keys', content_rowid = 'search_key', "
        "tokenize = 'trigram', columnsize = 0)"
    )
    op.execute(
        "CREATE TRIGGER session_title_trigrams_insert AFTER INSERT ON sessions BEGIN "
        f"{_ADD.format(key=new)} END"
    )
    op.execute(
        "CREATE TRIGGER session_title_trigrams_delete AFTER DELETE ON sessions BEGIN "
        f"{_REMOVE.format(key=old)} END"
    )
    op.execute(
        "CREATE TRIGGER session_title_trigrams_rename AFTER UPDATE OF title, user_pk "
        "ON sessions WHEN old.title IS NOT new.title OR old.user_pk IS NOT new.user_pk "
        f"BEGIN {_REMOVE.format(key=old)} {_ADD.format(key=new)} END"
    )
    op.execute("INSERT INTO session_title_trigrams (session_title_trigrams) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "rename"):
            op.execute(f"DROP TRIGGER session_title_trigrams_{trigger}")
        op.execute("DROP TABLE session_title_trigrams")
        op.execute("DROP VIEW session_title_trigrams_keys")
        return
    op.execute("DROP INDEX ix_sessions_title_trigrams")
    # RESTRICT (the default): fails, rather than cascading, if something else uses them.
    op.execute("DROP EXTENSION IF EXISTS btree_gin")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
