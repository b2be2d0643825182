"""Runtime configuration: one pydantic-settings class, built once and passed around."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./chatkeep.db"


class Settings(BaseSettings):
    """Every knob chatkeep reads; environment variables use the ``CHATKEEP_`` prefix."""

    model_config = SettingsConfigDict(env_prefix="CHATKEEP_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Signs pagination cursors and encrypts access-key secrets. When unset, a random key
    # is created once in ``secret_key_file`` so a fresh `make run` needs no set-up;
    # production deployments set it explicitly (and identically on every node).
    secret_key: SecretStr | None = None
    secret_key_file: Path = Path("./chatkeep.secret")

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_message_bytes: int = Field(default=256 * 1024, ge=1)
    db_pool_size: int = Field(default=10, ge=1)
    # PostgreSQL: a statement still unanswered after this many seconds fails (503), so a
    # hung or partitioned database cannot hold workers forever; 0 means no limit.
    db_statement_timeout_seconds: float = Field(default=30, ge=0)
    log_level: str = "info"
    # Requests one credential may make per fixed window (all dialects, all workers
    # together); 0 turns the limit off. See README "Security and limits".
    rate_limit_requests: int = Field(default=6000, ge=0)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    # A request body must arrive completely within this many seconds (slow clients get 408).
    body_timeout_seconds: float = Field(default=30, gt=0)
    # `chatkeep serve`: idle keep-alive connections are closed after this many seconds.
    keep_alive_seconds: int = Field(default=5, ge=1)
    # `chatkeep serve`: per worker, connections + requests in flight before answering 503.
    max_connections: int = Field(default=1000, ge=1)
    access_log: bool = True  # one JSON line per request on stderr (logger chatkeep.access)

    # --- web UI (issue 14): sign-in links and browser sessions -------------------------
    # A `chatkeep login-link` link works once, within this many minutes.
    web_login_link_minutes: float = Field(default=15, gt=0)
    # A browser stays signed in this long (or until it signs out).
    web_session_hours: float = Field(default=7 * 24, gt=0)
    # The session cookie's Secure flag; unset: Secure exactly when the request came over https.
    web_cookie_secure: bool | None = None
    # Where printed sign-in links point (`login-link`; `demo` uses its --host/--port).
    web_base_url: str = "http://127.0.0.1:8000"

    def resolved_secret_key(self) -> bytes:
        """The server key, creating the key file on first use when none is configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        return _read_or_create_key_file(self.secret_key_file)


def _read_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        # Write a temporary file, then hard-link it into place: link() fails if the key
        # already exists, so concurrent workers all end up reading the one key written.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes().strip()
