"""The one error hierarchy. Core raises these; each dialect renders them its own way."""

from __future__ import annotations


class ChatkeepError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthenticated(ChatkeepError):
    """No usable credential: missing, unknown, expired or revoked."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "missing" | "invalid" | "expired" | "revoked" | ...


class Forbidden(ChatkeepError):
    """The principal is known but may not do this. ``action`` names what was refused."""

    def __init__(self, message: str, *, action: str) -> None:
        super().__init__(message)
        self.action = action


class NotFound(ChatkeepError):
    """No such object *for this principal*: other tenants' and users' objects land here too."""

    def __init__(self, resource: str) -> None:
        super().__init__(f"{resource} not found")
        self.resource = resource


class InvalidArgument(ChatkeepError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.detail = message


class Conflict(ChatkeepError):
    """The request is well-formed but clashes with what is stored."""


class IdempotencyMismatch(Conflict):
    """An idempotency key was reused with a different request."""


class TooLarge(ChatkeepError):
    """A payload (a document) is over its size limit."""


class UnsupportedFormat(ChatkeepError):
    """A file in a format chatkeep cannot read."""


class RateLimited(ChatkeepError):
    """The credential has used up its request budget; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests for this credential; retry later.")
        self.retry_after = retry_after


class TooManyAnswers(RateLimited):
    """The credential already has its cap of answers running."""

    def __init__(self, limit: int) -> None:
        super().__init__(retry_after=1)
        self.message = f"This credential already has {limit} answers running; retry later."
        self.args = (self.message,)


class ProviderError(ChatkeepError):
    """The LLM provider failed: ``reason`` is one of unavailable, timeout, rate_limited,
    rejected, bad_response (the answer records it as ``failed``)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
