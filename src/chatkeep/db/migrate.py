"""Run Alembic migrations programmatically (the CLI and `serve` use this)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from chatkeep.settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config is ConfigParser-based: '%' must be escaped in URLs.
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade_to_head(settings: Settings) -> None:
    command.upgrade(alembic_config(settings), "head")
