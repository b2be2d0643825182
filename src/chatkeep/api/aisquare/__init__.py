"""The AISquare Studio dialect under /api/v1/qllm: DRF-style shapes and errors."""

from fastapi import APIRouter

from chatkeep.api.aisquare import chat_stream, messages, sessions
from chatkeep.api.aisquare.errors import render_aisquare_problem
from chatkeep.api.aisquare.routing import PREFIX
from chatkeep.api.openapi_errors import AISQUARE_ERRORS

router = APIRouter(prefix=PREFIX, responses=AISQUARE_ERRORS)
router.include_router(sessions.router)
router.include_router(messages.router)
router.include_router(chat_stream.router)

__all__ = ["PREFIX", "render_aisquare_problem", "router"]
