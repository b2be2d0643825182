"""Database plumbing: engines for SQLite and PostgreSQL, portable types, migrations."""
