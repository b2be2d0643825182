"""The native REST API under /v1: cursor-paginated, RFC 9457 problem+json errors."""

from fastapi import APIRouter

from chatkeep.api.native import answers, documents, domains, me, messages, sessions
from chatkeep.api.openapi_errors import NATIVE_ERRORS

router = APIRouter(prefix="/v1", responses=NATIVE_ERRORS)
router.include_router(me.router)
router.include_router(domains.router)
router.include_router(sessions.router)
router.include_router(messages.router)
router.include_router(documents.router)
router.include_router(answers.router)
