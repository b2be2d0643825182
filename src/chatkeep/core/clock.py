"""The service's one notion of now: aware UTC, microsecond precision."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
