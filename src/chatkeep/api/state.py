"""What one running app holds: settings, the engine, and the core's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chatkeep.api.ratelimit import RateLimiter
from chatkeep.core.access_keys import AccessKeyCipher
from chatkeep.core.cursor import CursorCodec
from chatkeep.core.uow import CoreConfig
from chatkeep.db.engine import SQLITE_WRITE, create_engine, create_sessionmaker, snapshot_reads
from chatkeep.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: AsyncEngine
    reads: async_sessionmaker[Any]
    writes: async_sessionmaker[Any]
    config: CoreConfig
    rate_limiter: RateLimiter | None  # None: CHATKEEP_RATE_LIMIT_REQUESTS=0

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        engine = create_engine(settings)
        server_key = settings.resolved_secret_key()
        limiter = None
        if settings.rate_limit_requests:
            limiter = RateLimiter(
                settings.database_url,
                limit=settings.rate_limit_requests,
                window_seconds=settings.rate_limit_window_seconds,
            )
            limiter.dispose_with(engine)
        return cls(
            settings=settings,
            engine=engine,
            reads=create_sessionmaker(snapshot_reads(engine)),
            writes=create_sessionmaker(engine.execution_options(**{SQLITE_WRITE: True})),
            config=CoreConfig(
                cursors=CursorCodec(server_key),
                max_message_bytes=settings.max_message_bytes,
                access_key_cipher=AccessKeyCipher(server_key),
            ),
            rate_limiter=limiter,
        )
