from __future__ import annotations

from fastapi import APIRouter

from chatkeep.api.native.deps import CurrentPrincipal
from chatkeep.api.native.schemas import CredentialOut, MeOut, TenantOut

router = APIRouter(tags=["me"])


@router.get("/me", summary="The caller: tenant, user, credential kind and scopes")
async def read_me(principal: CurrentPrincipal) -> MeOut:
    return MeOut(
        tenant=TenantOut(id=principal.tenant_id, name=principal.tenant_name),
        user_id=principal.user_id,
        credential=CredentialOut(
            id=principal.credential_id,
            kind=principal.kind.value,
            scopes=sorted(principal.scopes),
            expires_at=principal.credential_expires_at,
        ),
    )
