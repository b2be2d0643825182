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
    # The hot list requests straight on the database driver (api/fast_lane); False sends
    # every request through the framework (the same answers, ~5x the CPU per list).
    fast_lane: bool = True

    # --- knowledge: documents, ingestion, URL fetches (issue 11) ---
    # Largest original file accepted (upload or fetch); beyond it: 413, nothing stored.
    documents_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    documents_max_pages: int = Field(default=2000, ge=1)  # more: the document fails
    documents_max_text_chars: int = Field(default=5_000_000, ge=1000)  # parsed text cap
    # Ingestion workers `chatkeep serve` runs in each app process (0: run `chatkeep worker`).
    ingest_workers: int = Field(default=1, ge=0)
    ingest_poll_seconds: float = Field(default=1.0, gt=0)  # idle worker: look for jobs this often
    ingest_lease_seconds: float = Field(default=300, gt=0)  # a job not done by then is retaken
    ingest_max_attempts: int = Field(default=3, ge=1)  # then the document is failed
    ingest_retry_seconds: float = Field(default=5, ge=0)  # first backoff; doubles per attempt
    ingest_parse_timeout_seconds: float = Field(default=120, gt=0)  # parsing time limit
    # URL uploads: time and size caps, redirects followed, and whether loopback, private
    # and link-local addresses may be fetched (never cloud metadata addresses).
    fetch_timeout_seconds: float = Field(default=20, gt=0)
    fetch_max_redirects: int = Field(default=5, ge=0)
    fetch_allow_private: bool = False
    # --- Answers (issue 12): the LLM provider and the answer lifecycle ---
    # Any OpenAI-compatible server (OpenAI, DashScope, vLLM, Ollama, llama.cpp...). Unset:
    # `chatkeep serve` starts the embedded llama.cpp server with the bundled small model.
    llm_base_url: str | None = None
    llm_model: str = "SmolLM2-135M-Instruct"
    llm_api_key: SecretStr | None = None  # sent as a Bearer token; never logged
    llm_connect_timeout_seconds: float = Field(default=5, gt=0)
    llm_first_token_timeout_seconds: float = Field(default=60, gt=0)
    llm_answer_timeout_seconds: float = Field(default=300, gt=0)
    llm_max_tokens: int = Field(default=512, ge=1)
    llm_temperature: float = Field(default=0.2, ge=0, le=2)
    llm_local_threads: int = Field(default=2, ge=1)  # the embedded model's CPU threads
    llm_local_context_tokens: int = Field(default=8192, ge=512)  # shared by its 2 slots
    answer_top_k: int = Field(default=5, ge=1, le=50)  # passages retrieved per question
    answer_passage_tokens: int = Field(default=1200, ge=50)  # prompt budget: passages
    answer_history_tokens: int = Field(default=600, ge=0)  # prompt budget: earlier turns
    # With no relevant passage, answer with answer_no_passage_text instead of asking the model.
    answer_require_passages: bool = True
    answer_no_passage_text: str = (
        "I could not find anything about this in the documents, so I cannot answer it."
    )
    answer_max_running_per_credential: int = Field(default=4, ge=1)
    # A running answer's owner renews its lease every heartbeat; an answer whose lease has
    # run out (its process died) is marked incomplete by any worker's sweeper.
    answer_lease_seconds: float = Field(default=20, gt=0)
    answer_heartbeat_seconds: float = Field(default=2, gt=0)
    answer_flush_seconds: float = Field(default=0.1, gt=0)  # delta batching: at most this long
    answer_flush_chars: int = Field(default=400, ge=1)  # ... or this much text
    answer_poll_seconds: float = Field(default=0.25, gt=0)  # readers tailing another worker
    answer_ping_seconds: float = Field(default=15, gt=0)  # SSE keep-alive comments
    # AI-doc SendDocumentAskQuestion answers in one JSON body: it waits this long for the
    # finished answer, then answers 504 AnswerTimeout (the answer goes on in its session).
    aidoc_ask_max_wait_seconds: float = Field(default=60, gt=0)
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
