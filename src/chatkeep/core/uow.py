"""The unit of work a request's services run in: one database transaction plus config."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from chatkeep.core.access_key_cipher import AccessKeyCipher
from chatkeep.core.cursor import CursorCodec


@dataclass(frozen=True, slots=True)
class CoreConfig:
    cursors: CursorCodec
    max_message_bytes: int
    # Seals access-key secrets at rest; None only where no access key is ever touched.
    access_key_cipher: AccessKeyCipher | None = None


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """Services read and write through ``db``; only the caller that opened it commits."""

    db: AsyncSession
    config: CoreConfig
