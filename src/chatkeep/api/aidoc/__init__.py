"""The Alibaba Cloud AI-doc dialect: the official SDK's paths, bodies, envelopes and errors.

Mounted at ``/api/v2/aidoc`` and ``/api/v1/aidoc/folder``; see docs/aidoc.md.
"""

from fastapi import APIRouter

from chatkeep.api.aidoc import ask, chat, documents, folders, retrieve, sessions
from chatkeep.api.aidoc.errors import AidocError, render_aidoc_problem, render_raised
from chatkeep.api.openapi_errors import AIDOC_ERRORS

PREFIXES = ("/api/v2/aidoc", "/api/v1/aidoc")

router = APIRouter(tags=["aidoc"], responses=AIDOC_ERRORS)
router.include_router(sessions.router)
router.include_router(folders.router)
router.include_router(chat.router)
router.include_router(documents.router)
router.include_router(retrieve.router)
router.include_router(ask.router)

__all__ = ["PREFIXES", "AidocError", "render_aidoc_problem", "render_raised", "router"]
