"""create_app(settings): assembles routers, middleware and error renderers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp

from chatkeep import __version__
from chatkeep.api import aidoc, aisquare, health, native
from chatkeep.api.fast_lane import fast_lane
from chatkeep.api.handlers import install_handlers
from chatkeep.api.limits import BodyLimits
from chatkeep.api.metrics import Metrics
from chatkeep.api.native.errors import render_native_problem
from chatkeep.api.observability import enable_access_log
from chatkeep.api.problems import DialectRouter
from chatkeep.api.request_layer import RequestLayer
from chatkeep.core.answering.ports import LLM, Retriever
from chatkeep.db.direct import direct_reads
from chatkeep.runtime import Runtime, build_answer_engine
from chatkeep.settings import Settings
from chatkeep.web import install_web
from chatkeep.workers import ingestion_workers


def create_app(
    settings: Settings, *, llm: LLM | None = None, retriever: Retriever | None = None
) -> FastAPI:
    state = Runtime.build(settings)
    answers = build_answer_engine(state, llm=llm, retriever=retriever)
    reads = direct_reads(settings, state.engine, state.writer) if settings.fast_lane else None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        answers.start()
        async with ingestion_workers(state, settings.ingest_workers):
            yield
        await answers.stop()
        await state.engine.dispose()

    app = ChatkeepAPI(
        title="chatkeep",
        version=__version__,
        summary="Chat sessions for LLM question-answering apps.",
        lifespan=lifespan,
    )
    app.state.chatkeep = state
    app.state.answers = answers

    dialects = DialectRouter(default=render_native_problem)
    for prefix in aidoc.PREFIXES:
        dialects.register(prefix, aidoc.render_aidoc_problem)
    dialects.register(aisquare.PREFIX, aisquare.render_aisquare_problem)
    install_handlers(app, dialects)
    app.add_exception_handler(aidoc.AidocError, aidoc.render_raised)  # raised in its terms
    metrics = Metrics(state.engine)
    if settings.access_log:
        enable_access_log()
    body = BodyLimits(
        settings.max_body_bytes,
        dialects,
        timeout=settings.body_timeout_seconds,
        upload_max_bytes=settings.documents_max_bytes,
    )
    lane = fast_lane(state, reads, dialects)

    def outermost(stack: ASGIApp) -> ASGIApp:
        return RequestLayer(
            lane(stack), metrics=metrics, log_requests=settings.access_log, body=body
        )

    app.outermost = outermost
    app.add_api_route("/metrics", metrics.endpoint, include_in_schema=False)

    app.include_router(health.router)
    app.include_router(native.router)
    app.include_router(aisquare.router)
    app.include_router(aidoc.router)
    install_web(app)  # the browser UI at /
    return app


class ChatkeepAPI(FastAPI):
    """FastAPI with chatkeep's request layer and fast lane outside the framework's own
    middleware (its error, telemetry and body-limit layers): a fast-lane answer pays for
    none of them, and the request layer still sees every answer, a 500 included."""

    outermost: Callable[[ASGIApp], ASGIApp] = staticmethod(lambda stack: stack)

    def build_middleware_stack(self) -> ASGIApp:
        return self.outermost(super().build_middleware_stack())


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and multi-worker serving: settings from the environment."""
    return create_app(Settings())
