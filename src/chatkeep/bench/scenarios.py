"""The scenarios: which request, as whom, over which wire format (issue 5, item 3).

Each read scenario is one fixed request a client repeats; the writes scenario creates a
session and appends to it. Requests that depend on the data (the cursor 99 pages deep,
the heavy user's last page at small sizes) are resolved against the running server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx

from chatkeep.bench.dataset import NAME_QUERY, WRITER_USERS
from chatkeep.bench.load import LoadedDataset
from chatkeep.bench.loadgen import WireRequest

AISQUARE_LIST = "/api/v1/qllm/chat-sessions/"
AIDOC_LIST = "/api/v2/aidoc/document/chat/session/list"
NATIVE_LIST = "/v1/sessions"
DEEP_PAGE = 1_000  # AI-doc page 1,000 of size 10
AIDOC_PAGE_SIZE = 10
NATIVE_PAGE_SIZE = 20
NATIVE_DEEP_PAGES = 100  # the cursor of page 100: next_cursor followed 99 times
APPENDS_PER_SESSION = 9


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    requests: list[WireRequest]
    page_one: bool = False  # judged by the flat-scaling and framework-efficiency targets
    writes: bool = False
    notes: list[str] = field(default_factory=list)


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _aidoc(
    name: str, title: str, key: str, body: dict[str, object], *, page_one: bool = False,
    notes: list[str] | None = None,
) -> Scenario:  # fmt: skip
    request = WireRequest("POST", AIDOC_LIST, _bearer(key), json.dumps(body))
    return Scenario(name, title, [request], page_one=page_one, notes=notes or [])


def build_scenarios(data: LoadedDataset, client: httpx.Client) -> list[Scenario]:
    """Every scenario, with data-dependent parts resolved against the running server."""
    typical, heavy = data.keys["typical"], data.keys["heavy-0"]
    deep_page, deep_note = _deep_page(data.heavy_sessions)
    cursor, page = follow_cursor(client, heavy, NATIVE_DEEP_PAGES - 1)
    cursor_note = [] if page == NATIVE_DEEP_PAGES else [
        f"the heavy user's native list has {page} pages of {NATIVE_PAGE_SIZE} at this size, "
        f"so the deepest page is {page}, not {NATIVE_DEEP_PAGES}"]  # fmt: skip
    get = WireRequest  # for brevity below
    return [
        Scenario("aisquare_list", "AISquare list, typical user",
                 [get("GET", AISQUARE_LIST, _bearer(typical))], page_one=True),
        Scenario("aisquare_list_domain", "AISquare list with domain_id, typical user",
                 [get("GET", f"{AISQUARE_LIST}?domain_id={data.typical_domain}",
                      _bearer(typical))], page_one=True),
        _aidoc("aidoc_list_typical", "AI-doc list page 1, typical user", typical,
               {"currentPage": 1, "pageSize": AIDOC_PAGE_SIZE}, page_one=True),
        _aidoc("aidoc_list_heavy", "AI-doc list page 1, heavy user", heavy,
               {"currentPage": 1, "pageSize": AIDOC_PAGE_SIZE}, page_one=True),
        _aidoc("aidoc_name_heavy", f"AI-doc list, name={NAME_QUERY!r}, heavy user", heavy,
               {"name": NAME_QUERY, "currentPage": 1, "pageSize": AIDOC_PAGE_SIZE}),
        _aidoc("aidoc_deep_heavy", f"AI-doc list page {deep_page:,} of size 10, heavy user",
               heavy, {"currentPage": deep_page, "pageSize": AIDOC_PAGE_SIZE},
               notes=[deep_note] if deep_note else []),
        Scenario("native_list", "native cursor list page 1, heavy user",
                 [get("GET", f"{NATIVE_LIST}?limit={NATIVE_PAGE_SIZE}", _bearer(heavy))],
                 page_one=True),
        Scenario("native_list_deep", f"native cursor list page {page}, heavy user",
                 [get("GET", f"{NATIVE_LIST}?limit={NATIVE_PAGE_SIZE}&cursor={cursor}",
                      _bearer(heavy))], notes=cursor_note),
        writes_scenario([data.keys[w] for w in WRITER_USERS]),
    ]  # fmt: skip


def writes_scenario(keys: list[str]) -> Scenario:
    """Per writer user a (create, append) pair; connection k writes as user k."""
    requests: list[WireRequest] = []
    for key in keys:
        requests.append(
            WireRequest(
                "POST",
                NATIVE_LIST,
                _bearer(key),
                json.dumps({"title": "bench write"}),
                kind="create",
            )
        )
        requests.append(WireRequest(
            "POST", f"{NATIVE_LIST}/{{id}}/messages", _bearer(key),
            json.dumps({"role": "user", "content": "What changed since Q3?"}), kind="append",
        ))  # fmt: skip
    return Scenario("writes", f"session create + {APPENDS_PER_SESSION} message appends",
                    requests, writes=True)  # fmt: skip


def _deep_page(heavy_sessions: int) -> tuple[int, str | None]:
    last = -(-heavy_sessions // AIDOC_PAGE_SIZE)
    if last >= DEEP_PAGE:
        return DEEP_PAGE, None
    return last, (f"the heavy user has {heavy_sessions:,} sessions at this size, so the "
                  f"deepest page is {last:,}, not {DEEP_PAGE:,}")  # fmt: skip


def follow_cursor(client: httpx.Client, key: str, times: int) -> tuple[str, int]:
    """The native list's cursor after following ``next_cursor`` up to ``times`` times,
    and the page number it opens (less than ``times + 1`` if the list ends sooner)."""
    cursor, page = "", 1
    while page <= times:
        params: dict[str, str | int] = {"limit": NATIVE_PAGE_SIZE}
        if cursor:
            params["cursor"] = cursor
        response = client.get(NATIVE_LIST, params=params, headers=_bearer(key))
        response.raise_for_status()
        following = response.json()["next_cursor"]
        if following is None:
            break
        cursor, page = following, page + 1
    if not cursor:
        raise RuntimeError("the heavy user's native list has a single page")
    return cursor, page
