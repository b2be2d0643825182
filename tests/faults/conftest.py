"""The fault suite's figures: each test records what it measured, printed at the end.

The lines are meant to be quoted (acknowledged vs found, statuses during an outage,
recovery time), so they go to the terminal summary even when every test passes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

FIGURES: list[str] = []


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Append one-line figures; they are printed under the test's name after the run."""
    lines: list[str] = []
    yield lines
    FIGURES.extend(f"{request.node.name}: {line}" for line in lines)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("fault-test figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
