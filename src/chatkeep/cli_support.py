"""What every ``chatkeep`` subcommand module shares: settings, running a coroutine with one
clear line per failure, one committed transaction, JSON-or-human output.

Its own module so that cli.py, which registers every command, and the modules that define
some of them import it and not each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import click
import orjson
from sqlalchemy.exc import DBAPIError

from chatkeep.core.errors import ChatkeepError
from chatkeep.core.uow import UnitOfWork
from chatkeep.db.engine import DatabaseURLError, async_url
from chatkeep.runtime import Runtime, unit_of_work
from chatkeep.settings import Settings

T = TypeVar("T")


class CommandFailed(click.ClickException):
    exit_code = 1


def load_settings() -> Settings:
    try:
        settings = Settings()
        async_url(settings.database_url)
    except (DatabaseURLError, ValueError) as exc:
        raise CommandFailed(f"configuration error: {exc}") from None
    return settings


def run_in_transaction(work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction; turn every failure into one clear line."""

    async def main() -> T:
        state = Runtime.build(load_settings())
        try:
            async with unit_of_work(state, write=True) as uow:
                return await work(uow)
        finally:
            await state.engine.dispose()

    return run(main())


def run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except ChatkeepError as exc:
        raise CommandFailed(exc.message) from None
    except (DBAPIError, OSError) as exc:
        raise CommandFailed(f"database error: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def emit(as_json: bool, payload: dict[str, Any], human: str) -> None:
    click.echo(orjson.dumps(payload).decode() if as_json else human)


def migrate_schema(settings: Settings) -> None:
    from chatkeep.db.migrate import upgrade_to_head

    try:
        upgrade_to_head(settings)
    except (DBAPIError, OSError) as exc:
        raise CommandFailed(f"cannot migrate the database: {_one_line(exc)}") from None
