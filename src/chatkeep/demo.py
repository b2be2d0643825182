"""The demo tenant: a small, realistic dataset a newcomer can click through.

Seeding is idempotent (the data is created once); every run issues a fresh key, since a
key is shown only when it is created.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from chatkeep.core import domains, messages, sessions, tenants
from chatkeep.core.knowledge import documents
from chatkeep.core.knowledge.types import NewDocument
from chatkeep.core.repository import accounts
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.types import CredentialKind, NewMessage, NewSession, SessionChanges
from chatkeep.core.uow import UnitOfWork

DEMO_TENANT = "demo"
DEMO_USER = "alice"
DEMO_DOCUMENT = "handbook.md"  # in chatkeep/samples; ingested by `chatkeep serve`'s workers

_CONVERSATIONS = [
    ("How do I rotate an API key?", "Default", [
        ("user", "How do I rotate an API key without downtime?"),
        ("assistant", "Create a second key, deploy it, then revoke the first one."),
    ]),
    ("Pagination in the list endpoint", "API reference", [
        ("user", "Does the list endpoint use offsets or cursors?"),
        ("assistant", "Cursors: pass next_cursor back as cursor until has_more is false."),
    ]),
    ("Parental leave policy", "HR policies", [
        ("user", "How many weeks of parental leave do we offer?"),
        ("assistant", "Sixteen weeks, fully paid, for every parent."),
    ]),
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoResult:
    tenant: str
    user_id: str
    key: str
    seeded: bool


async def seed_demo(uow: UnitOfWork) -> DemoResult:
    seeded = False
    if await accounts.find_tenant(uow.db, DEMO_TENANT) is None:
        await _seed(uow)
        seeded = True
    issued = await tenants.create_api_key(
        uow, DEMO_TENANT, DEMO_USER, kind=CredentialKind.USER, scopes=["*"]
    )
    return DemoResult(DEMO_TENANT, DEMO_USER, issued.key, seeded)


async def _seed(uow: UnitOfWork) -> None:
    tenant = await tenants.create_tenant(uow, DEMO_TENANT)
    operator = tenants.operator_principal(tenant)
    docs = await domains.create_domain(uow, operator, "Product docs")
    default_domain = await domain_rows.default_domain(uow.db, tenant.id)
    assert default_domain is not None  # create_tenant makes it
    default = default_domain.id
    folders = {
        "Default": default,
        "Product docs": docs.id,
        "API reference": (await domains.create_domain(uow, operator, "API reference", docs.id)).id,
        "HR policies": (await domains.create_domain(uow, operator, "HR policies")).id,
    }
    # In the default domain: where a new chat starts, so a first question is answered from it.
    await documents.add_document(
        uow, operator, default, NewDocument(DEMO_DOCUMENT, sample_document()), 1 << 30
    )
    await tenants.create_user(uow, DEMO_TENANT, "bob")
    alice = await tenants.operator_as_user(uow, DEMO_TENANT, DEMO_USER)
    for index, (title, folder, turns) in enumerate(_CONVERSATIONS):
        session = await sessions.create_session(
            uow, alice, NewSession(title=title, domain_id=folders[folder])
        )
        for role, content in turns:
            await messages.append_message(uow, alice, session.uuid, NewMessage(role, content))
        if index == 0:
            await sessions.update_session(uow, alice, session.uuid, SessionChanges(is_pinned=True))


def sample_document() -> bytes:
    """The demo's handbook: English with a Chinese section (README's upload example)."""
    return (resources.files("chatkeep") / "samples" / DEMO_DOCUMENT).read_bytes()
