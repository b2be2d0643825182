"""Document isolation, property-based: random uploads, ingestion, DetailDocument,
GetDocParsingResult, DeleteDocument and Retrieve by credentials of two tenants (bearer and
AK/SK), checked against a model of which tenant holds which document.

Invariants: a credential reaches exactly its own tenant's live documents (with the scope
the action needs), a refusal changes nothing, and a refusal of another tenant's or a
deleted document looks exactly like that of a task that never existed.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from chatkeep.settings import Settings
from tests.security.harness import Cred, Harness, Reply, harness

RUN = settings(
    max_examples=8,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,  # the same examples every run
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# (name, service?, scopes, access key?) for each tenant.
CREDENTIALS = [
    ("all", False, ("*",), False),
    ("reader", True, ("documents:read",), False),
    ("sessions-only", False, ("sessions:read", "sessions:write"), False),
    ("ak-all", False, ("*",), True),
]
DETAIL = "/api/v1/aidoc/document/detail"
DELETE = "/api/v1/aidoc/document/delete"
PARSING_RESULT = "/api/v2/aidoc/document/getDocParsingResult"
RETRIEVE = "/api/v2/aidoc/knowledgebase/retrieve"
SCOPE_OF = {"detail": "documents:read", "result": "documents:read", "delete": "documents:write"}


@dataclass
class Doc:
    task: uuid.UUID
    number: int
    tenant: str
    word: str  # a word only this document contains
    ready: bool = False


class DocumentIsolation(RuleBasedStateMachine):
    h: Harness

    def __init__(self) -> None:
        super().__init__()
        self.creds: list[Cred] = []
        self.folders: dict[str, uuid.UUID] = {}
        self.uploaders: dict[str, Any] = {}
        self.docs: dict[uuid.UUID, Doc] = {}
        self.gone: list[Doc] = []

    @initialize()
    def tenants(self) -> None:
        w = self.h.world
        for _ in range(2):
            tenant = self.h.call(w.tenant)
            self.folders[tenant] = self.h.call(w.domain, tenant, "Docs").id
            for name, service, scopes, ak in CREDENTIALS:
                user = f"u-{name}"
                if ak:
                    pair = self.h.call(functools.partial(w.access_key, tenant, user, scopes=scopes))
                    access = (pair.access_key_id, pair.access_key_secret)
                    cred = Cred(name, tenant, user, service, frozenset(scopes), None, access)
                else:
                    key = self.h.call(
                        functools.partial(w.key, tenant, user, service=service, scopes=scopes)
                    )
                    cred = Cred(name, tenant, user, service, frozenset(scopes), key.key)
                    if name == "all":
                        self.uploaders[tenant] = key
                self.creds.append(cred)

    def send(self, cred: Cred, method: str, path: str, **kw: Any) -> Reply:
        form = "acs3" if cred.access_key else "acs-bearer"
        return self.h.send(cred, form, method, path, **kw)

    def _call(self, cred: Cred, verb: str, task: uuid.UUID) -> Reply:
        if verb == "detail":
            return self.send(cred, "GET", DETAIL, query={"taskId": str(task)})
        if verb == "delete":
            return self.send(cred, "DELETE", DELETE, query={"taskId": str(task)})
        return self.send(cred, "POST", PARSING_RESULT, body={"taskId": str(task)})

    # --- rules --------------------------------------------------------------------------

    @rule(data=st.data())
    def upload(self, data: st.DataObject) -> None:
        tenant = data.draw(st.sampled_from(sorted(self.folders)), label="tenant")
        word = f"word{len(self.docs) + len(self.gone)}x{uuid.uuid4().hex[:6]}"
        added = self.h.call(functools.partial(
            self.h.world.document, self.uploaders[tenant], self.folders[tenant],
            f"{word}.txt", f"A note about {word}.".encode(),
        ))  # fmt: skip
        doc = added.document
        self.docs[doc.id] = Doc(doc.id, doc.number, tenant, word)

    @rule()
    def ingest(self) -> None:
        self.h.call(self.h.world.ingest)
        for doc in self.docs.values():
            doc.ready = True

    @rule(data=st.data(), verb=st.sampled_from(sorted(SCOPE_OF)))
    def by_task(self, data: st.DataObject, verb: str) -> None:
        cred = data.draw(st.sampled_from(self.creds), label="credential")
        ghost = Doc(uuid.uuid4(), 2**62, "nobody", "ghost")
        target = data.draw(st.sampled_from([*self.docs.values(), *self.gone, ghost]))
        live = target.task in self.docs and target.tenant == cred.tenant
        reply = self._call(cred, verb, target.task)
        if not cred.can(SCOPE_OF[verb]):
            assert (reply.status, reply.body["code"]) == (403, "Forbidden.RAM"), reply
            return
        if not live:
            assert (reply.status, reply.body["code"]) == (404, "InvalidTaskId.NotFound"), reply
            unknown = self._call(cred, verb, uuid.uuid4())
            assert (unknown.status, unknown.body["message"]) == (404, reply.body["message"])
            return
        if verb == "delete":
            assert (reply.status, reply.body["data"]) == (200, True), reply
            self.gone.append(self.docs.pop(target.task))
        elif verb == "detail":
            assert reply.status == 200, reply
            assert reply.body["data"]["id"] == target.number
            assert reply.body["data"]["jobStatus"] == ("ready" if target.ready else "queued")
        elif target.ready:
            assert reply.status == 200 and target.word in reply.body["data"]["content"], reply
        else:
            assert (reply.status, reply.body["code"]) == (409, "TaskProcessing"), reply

    @rule(data=st.data(), by_number=st.booleans())
    def retrieve(self, data: st.DataObject, by_number: bool) -> None:
        cred = data.draw(st.sampled_from(self.creds), label="credential")
        everything = [*self.docs.values(), *self.gone]
        if not everything:
            return
        target = data.draw(st.sampled_from(everything), label="target")
        body: dict[str, Any] = {"query": target.word, "topK": 50}
        if by_number:
            body["documentIds"] = [target.number]
        reply = self.send(cred, "POST", RETRIEVE, body=body)
        if not cred.can("documents:read"):
            assert (reply.status, reply.body["code"]) == (403, "Forbidden.RAM"), reply
            return
        live = target.task in self.docs and target.tenant == cred.tenant
        if by_number and not live:
            assert (reply.status, reply.body["code"]) == (404, "InvalidDocumentId.NotFound")
            return
        assert reply.status == 200, reply
        found = {r["docId"] for r in reply.body["data"]["results"]}
        expected = {str(target.number)} if live and target.ready else set()
        assert found == expected, (cred.name, target, found)


def test_a_tenant_reaches_exactly_its_own_live_documents(settings: Settings) -> None:
    with harness(settings) as h:
        machine = type("DocumentIsolationRun", (DocumentIsolation,), {"h": h})
        run_state_machine_as_test(machine, settings=RUN)
