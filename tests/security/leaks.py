"""Whole-suite secret-leak detection: every log record of the run, checked for issued secrets.

tests/conftest.py installs ``LeakWatch`` when the session starts: it wraps the two places
the core mints a secret (an API key, an access-key secret) so every secret issued in this
process is remembered, and a root logging handler keeps every record's rendered text. At
the session's end, ``leaked()`` names any record that contains any secret, and the run fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chatkeep.core import access_keys, auth, tenants
from tests.factories import ISSUED_SECRETS, remember_secret


class CapturingHandler(logging.Handler):
    """Keeps each record as the text a real handler would write (message and traceback)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record) + " " + repr(record.__dict__.get("args")))
        except Exception:  # a record that cannot format is still evidence
            self.lines.append(repr(record.__dict__))


@dataclass
class LeakWatch:
    handler: CapturingHandler = field(default_factory=CapturingHandler)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> None:
        logging.getLogger().addHandler(self.handler)
        # chatkeep's own loggers at DEBUG so nothing of ours escapes the check; other
        # libraries keep their levels (SQL echo at DEBUG would slow the suite a lot).
        chatkeep_logger = logging.getLogger("chatkeep")
        previous_level = chatkeep_logger.level
        chatkeep_logger.setLevel(logging.DEBUG)
        self._undo.append(lambda: chatkeep_logger.setLevel(previous_level))
        self._undo.append(lambda: logging.getLogger().removeHandler(self.handler))
        # Wrapped where it is looked up: tenants imported the name itself.
        for module in (auth, tenants):
            self._wrap(module, "new_api_key", lambda result: remember_secret(result[0]))
        self._wrap(
            access_keys.AccessKeyCipher, "encrypt", None, secret_arg=2
        )  # (self, access_key_id, secret)

    def _wrap(
        self,
        owner: Any,
        name: str,
        on_result: Callable[[Any], object] | None,
        *,
        secret_arg: int | None = None,
    ) -> None:
        original = getattr(owner, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if secret_arg is not None:
                remember_secret(args[secret_arg])
            result = original(*args, **kwargs)
            if on_result is not None:
                on_result(result)
            return result

        setattr(owner, name, wrapper)
        self._undo.append(lambda: setattr(owner, name, original))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def issued(self) -> set[str]:
        return ISSUED_SECRETS

    def leaked(self) -> list[str]:
        return find_leaks(self.handler.lines, ISSUED_SECRETS)


def find_leaks(lines: list[str], secrets: set[str]) -> list[str]:
    """Each captured line that contains an issued secret, with the secret masked."""
    found = []
    for line in lines:
        for secret in secrets:
            if secret in line:
                found.append(line.replace(secret, secret[:6] + "…(issued secret)"))
    return found
