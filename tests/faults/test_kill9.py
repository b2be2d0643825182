"""kill -9 the server while eight clients append; every acknowledged append survives.

The server is killed at a random moment mid-load (the seed is printed with the figures),
restarted on the same database, and the clients then retry whatever was never
acknowledged with the same Idempotency-Key, as a real client would.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from tests.api.aidoc.live_server import fresh_database
from tests.faults.load import AppendLoad, retry_all
from tests.faults.server import Server, create_account, create_sessions, server_env
from tests.faults.stored import assert_exactly_once, found_once, read_stored, sqlite_integrity

pytestmark = pytest.mark.faults

CLIENTS = 8
SESSIONS = 4


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_acknowledged_appends_survive_kill_9(kind: str, tmp_path: Path, figures: list[str]) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    with fresh_database(kind, tmp_path) as url:
        env = server_env(url, tmp_path)
        server = Server(env, tmp_path / "server.log", workers=2)
        server.start()
        try:
            account = create_account(env)
            sessions = create_sessions(server.base_url, account.headers, SESSIONS)
            with AppendLoad(server.base_url, account.headers, sessions, clients=CLIENTS) as load:
                load.wait_for_more_acknowledged(40)
                time.sleep(rng.uniform(0, 1.5))
                server.kill9()
            ledger = load.ledger
            if kind == "sqlite":
                assert sqlite_integrity(url.removeprefix("sqlite:///")) == ["ok"]
            server.start()
            acknowledged = ledger.acknowledged()
            unacknowledged = ledger.unacknowledged()
            retried = retry_all(server.base_url, account.headers, unacknowledged)
            replayed = sum(o.replayed for o in retried)
        finally:
            server.stop()
        stored = read_stored(url)
        figures.append(
            f"seed {seed}: {len(acknowledged)} appends acknowledged before the kill -9, "
            f"{found_once(stored, acknowledged)} found exactly once after restart; "
            f"{len(unacknowledged)} unacknowledged, retried with their key: "
            f"{sum(o.status == 201 for o in retried)} x 201, {replayed} of them replays "
            f"(committed just before the kill); {len(stored.rows)} rows stored"
        )
        assert all(o.status == 201 for o in retried), [(o.status, o.body) for o in retried]
        assert_exactly_once(stored, acknowledged, [*acknowledged, *unacknowledged])
        assert len(stored.rows) == len(acknowledged) + len(unacknowledged)
        if kind == "sqlite":
            assert sqlite_integrity(url.removeprefix("sqlite:///")) == ["ok"]
