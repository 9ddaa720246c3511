"""The FastAPI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from mamcrawler import __version__, web
from mamcrawler.runtime import Runtime

from .deps import require_api_key
from .docs import install_docs
from .edges import RequestEdges
from .envelope import install_error_handlers
from .routers import (
    account,
    acquisition,
    completion,
    compliance,
    library,
    metadata,
    metrics,
    scheduler,
    system,
)


def create_app(rt: Runtime, *, start_scheduler: bool = True) -> FastAPI:
    """The API around a built runtime; starts and stops the scheduler with the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if start_scheduler:
            rt.start_scheduler()  # in demo mode: once the demo world is ready
        try:
            yield
        finally:
            rt.scheduler.shutdown()

    app = FastAPI(
        title="MAMcrawler",
        version=__version__,
        description="Self-hosted audiobook collection manager. Every endpoint except /health "
        "needs the API key (X-Api-Key header or Authorization: Bearer). Every answer, "
        "errors included, is one envelope: {success, data, error, timestamp}.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None,  # /docs from the package's files, see docs.py
        redirect_slashes=False,  # a redirect's Location would come from the Host header
    )
    app.state.runtime = rt
    install_error_handlers(app)
    install_docs(app)
    app.add_middleware(RequestEdges, api_key=rt.api_key,
                       max_body_bytes=rt.settings.api_max_body_bytes)
    app.include_router(system.health_router)
    protected = [Depends(require_api_key)]
    # Summary routes first: "/api/series/completion" must not be read as a series id.
    for router in (library.summaries, acquisition.summaries, library.books, library.series,
                   library.authors, acquisition.wanted, acquisition.downloads,
                   metadata.router, scheduler.router, system.router, account.router,
                   compliance.router, completion.router):
        app.include_router(router, dependencies=protected)
    app.include_router(metrics.router)  # checks the key itself: METRICS_PUBLIC
    web.install(app)  # the dashboard's pages, sign-in and assets
    return app
