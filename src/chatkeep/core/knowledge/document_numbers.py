"""Documents named by their 64-bit integer ids (``number``, Alibaba's ``documentIds``).

A question may be restricted to named documents only within what its session may read:
the tenant's documents in the session's domain and its subtree. An unknown id, another
tenant's and one outside that subtree are refused alike, so an id's existence elsewhere
does not leak.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from chatkeep.core.auth import require
from chatkeep.core.domains import subtree
from chatkeep.core.errors import InvalidArgument, NotFound
from chatkeep.core.knowledge.repository import documents as rows
from chatkeep.core.repository import domains as domain_rows
from chatkeep.core.types import Principal, Scope
from chatkeep.core.uow import UnitOfWork

NUMBER_MAX = 2**63 - 1  # a BIGINT
DOCUMENT_IDS_MAX = 100


async def documents_in_domain(
    uow: UnitOfWork, principal: Principal, numbers: Sequence[int], domain_id: uuid.UUID
) -> list[uuid.UUID]:
    """The documents' UUIDs in the order named (repeats dropped), or ``NotFound("document")``."""
    wanted = list(dict.fromkeys(numbers))
    if len(wanted) > DOCUMENT_IDS_MAX:
        raise InvalidArgument("document_ids", f"at most {DOCUMENT_IDS_MAX} documents")
    if any(not 1 <= n <= NUMBER_MAX for n in wanted):
        raise NotFound("document")  # no document has such a number
    placed = await rows.placed_by_number(uow.db, principal.tenant_id, wanted)
    subtree = set(await domain_subtree(uow, principal, domain_id))
    if any(n not in placed or placed[n][1] not in subtree for n in wanted):
        raise NotFound("document")
    return [placed[n][0] for n in wanted]


async def domain_subtree(
    uow: UnitOfWork, principal: Principal, domain_id: uuid.UUID
) -> list[uuid.UUID]:
    """``domain_id`` and every domain below it (empty if the tenant has no such domain)."""
    tree = await domain_rows.all_domains(uow.db, principal.tenant_id)
    if not any(d.id == domain_id for d in tree):
        return []
    return subtree(tree, domain_id)


async def documents_numbered(
    uow: UnitOfWork, principal: Principal, numbers: Sequence[int]
) -> list[uuid.UUID]:
    """The UUIDs of the documents ``numbers`` name, in order; NotFound if any is not the
    tenant's (another tenant's number is answered exactly like an unknown one)."""
    require(principal, Scope.DOCUMENTS_READ, "retrieve from documents")
    wanted = list(dict.fromkeys(numbers))
    found = await rows.placed_by_number(uow.db, principal.tenant_id, wanted)
    if len(found) != len(wanted):
        raise NotFound("document")
    return [found[n][0] for n in wanted]
