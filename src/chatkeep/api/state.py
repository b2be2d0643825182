"""What one running app holds: settings, the engine, and the core's configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from chatkeep.core.cursor import CursorCodec
from chatkeep.core.uow import CoreConfig
from chatkeep.db.engine import SQLITE_WRITE, create_engine, create_sessionmaker
from chatkeep.settings import Settings


@dataclass(frozen=True, slots=True)
class AppState:
    settings: Settings
    engine: AsyncEngine
    reads: async_sessionmaker[Any]
    writes: async_sessionmaker[Any]
    config: CoreConfig

    @classmethod
    def build(cls, settings: Settings) -> AppState:
        engine = create_engine(settings)
        return cls(
            settings=settings,
            engine=engine,
            reads=create_sessionmaker(engine),
            writes=create_sessionmaker(engine.execution_options(**{SQLITE_WRITE: True})),
            config=CoreConfig(
                cursors=CursorCodec(settings.resolved_secret_key()),
                max_message_bytes=settings.max_message_bytes,
            ),
        )
