"""The SQLite file's disk fills up or turns read-only under a running server.

Writes must fail with a clean 503 in each dialect's format (never a 500 or a stack trace),
reads must keep working, and afterwards nothing is corrupted or missing.
"""

from __future__ import annotations

import secrets
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.faults.dialects import AIDOC_SESSION_LIST, AISQUARE_SESSION_LIST, unavailable_problem
from tests.faults.load import Append, Outcome, post_append, retry_all
from tests.faults.mounts import ext4_image, fill, small_tmpfs
from tests.faults.server import Account, Server, create_account, create_sessions, server_env
from tests.faults.stored import assert_exactly_once, read_stored, sqlite_integrity

pytestmark = pytest.mark.faults

AIDOC_SESSION_CREATE = "/api/v2/aidoc/document/chat/session/create"
BIG = "x" * (64 * 1024)  # appends that cannot fit in the pages SQLite already holds


def append_all(client: httpx.Client, appends: list[Append]) -> list[Outcome]:
    return [post_append(client, append) for append in appends]


def new_appends(sessions: list[str], count: int, tag: str) -> list[Append]:
    run = secrets.token_hex(3)
    return [Append(sessions[n % len(sessions)], f"{tag}-{run}-{n}") for n in range(count)]


def other_dialect_writes(client: httpx.Client, account: Account) -> dict[str, httpx.Response]:
    return {
        "aisquare": client.post(AISQUARE_SESSION_LIST, json={"title": "t"}),
        "aidoc": client.post(AIDOC_SESSION_CREATE, json={"name": "t"}),
    }


def reads_work(client: httpx.Client, sessions: list[str], expected: int) -> None:
    """Every read path answers 200 and sees every message stored before the fault."""
    total = 0
    for session in sessions:
        page = client.get(f"/v1/sessions/{session}/messages", params={"limit": 100})
        assert page.status_code == 200, page.text
        total += len(page.json()["data"])
    assert total == expected
    assert client.get("/readyz").status_code == 200
    assert client.get(AISQUARE_SESSION_LIST).status_code == 200
    assert client.post(AIDOC_SESSION_LIST, json={}).status_code == 200


def assert_clean_503s(outcomes: list[Outcome], others: dict[str, httpx.Response]) -> None:
    for outcome in outcomes:
        if outcome.status != 201:
            assert outcome.status == 503, outcome.body
            why = unavailable_problem("native-append", outcome.content_type, outcome.body)
            assert why is None, why
    for dialect, response in others.items():
        assert response.status_code == 503, (dialect, response.text)
        why = unavailable_problem(dialect, response.headers["content-type"], response.content)
        assert why is None, why


def test_a_full_disk_refuses_writes_cleanly_and_loses_nothing(
    tmp_path: Path, figures: list[str]
) -> None:
    with small_tmpfs("16m") as disk:
        url = f"sqlite:///{disk / 'chatkeep.db'}"
        env = server_env(url, tmp_path)
        server = Server(env, tmp_path / "server.log")
        server.start()
        try:
            account = create_account(env)
            sessions = create_sessions(server.base_url, account.headers, 2)
            with httpx.Client(base_url=server.base_url, headers=account.headers) as client:
                before = append_all(client, new_appends(sessions, 20, "before"))
                assert all(o.status == 201 for o in before)
                filler = fill(disk)
                attempts = [Append(a.session_id, a.key) for a in new_appends(sessions, 30, "full")]
                during = [post_append_big(client, a) for a in attempts]
                others = other_dialect_writes(client, account)
                reads_work(client, sessions, expected=20 + sum(o.status == 201 for o in during))
                assert sqlite_integrity(str(disk / "chatkeep.db")) == ["ok"]
                filler.unlink()
                after = append_all(client, new_appends(sessions, 10, "after"))
            refused = [o.append for o in during if o.status != 201]
            retried = retry_all(server.base_url, account.headers, refused)
        finally:
            server.stop()
        stored = read_stored(url)
        integrity = sqlite_integrity(str(disk / "chatkeep.db"))
    statuses = Counter(o.status for o in during)
    figures.append(
        f"disk full: {len(during)} appends -> {dict(statuses)}; aisquare/aidoc writes -> "
        f"{[r.status_code for r in others.values()]}; reads 200 throughout; after freeing "
        f"space {sum(o.status == 201 for o in after)}/{len(after)} appends 201 without a "
        f"restart; {len(refused)} refused retried -> {sum(o.status == 201 for o in retried)} "
        f"x 201; integrity_check {integrity}"
    )
    assert statuses[503] > 0, "the disk never filled up"
    assert_clean_503s(during, others)
    assert all(o.status == 201 and not o.replayed for o in [*after, *retried])
    acknowledged = [o.append for o in [*before, *during, *after, *retried] if o.status == 201]
    assert_exactly_once(stored, acknowledged, acknowledged)
    assert integrity == ["ok"]


def post_append_big(client: httpx.Client, append: Append) -> Outcome:
    response = client.post(
        f"/v1/sessions/{append.session_id}/messages",
        json={"role": "user", "content": append.content + BIG},
        headers={"Idempotency-Key": append.key},
    )
    return Outcome(
        append, response.status_code, 0.0, 0.0, response.content,
        content_type=response.headers.get("content-type", ""),
    )  # fmt: skip


def test_a_disk_turned_read_only_refuses_writes_cleanly_and_loses_nothing(
    tmp_path: Path, figures: list[str]
) -> None:
    with ext4_image(size_mb=32) as disk:
        database = disk.mount_point / "chatkeep.db"
        url = f"sqlite:///{database}"
        env = server_env(url, tmp_path)
        server = Server(env, tmp_path / "server.log")
        server.start()
        try:
            account = create_account(env)
            sessions = create_sessions(server.base_url, account.headers, 2)
            with httpx.Client(base_url=server.base_url, headers=account.headers) as client:
                before = append_all(client, new_appends(sessions, 20, "before"))
                assert all(o.status == 201 for o in before)
                disk.fail()
                assert "emergency_ro" in disk.options(), disk.options()
                during = append_all(client, new_appends(sessions, 10, "read-only"))
                others = other_dialect_writes(client, account)
                reads_work(client, sessions, expected=20)
        finally:
            server.stop()
        # As an operator would: unmount, check the filesystem, mount it writable again.
        fsck = disk.unmount_and_repair()
        disk.mount()
        integrity = sqlite_integrity(str(database))
        server.start()
        try:
            refused = [o.append for o in during]
            retried = retry_all(server.base_url, account.headers, refused)
        finally:
            server.stop()
        stored = read_stored(url)
    statuses = Counter(o.status for o in during)
    figures.append(
        f"disk read-only (ext4 errors=remount-ro): {len(during)} appends -> {dict(statuses)}; "
        f"aisquare/aidoc writes -> {[r.status_code for r in others.values()]}; reads 200; "
        f"after fsck + remount: integrity_check {integrity}, {len(before)}/{len(before)} "
        f"earlier appends present, {sum(o.status == 201 for o in retried)}/{len(retried)} "
        f"refused appends 201 on retry"
    )
    assert statuses == {503: len(during)}
    assert_clean_503s(during, others)
    assert "clean" in fsck or "FILE SYSTEM WAS MODIFIED" in fsck, fsck
    assert integrity == ["ok"]
    assert all(o.status == 201 and not o.replayed for o in retried)
    acknowledged = [o.append for o in [*before, *retried]]
    assert_exactly_once(stored, acknowledged, acknowledged)
