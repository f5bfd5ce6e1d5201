"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from app.api import problems, routes_events, routes_health, routes_verify
from app.api.responses import FastJSON
from app.bootstrap import Services, open_services
from app.config import Settings

ServicesFactory = Callable[[Settings], AbstractAsyncContextManager[Services]]


def create_app(settings: Settings, services: ServicesFactory = open_services) -> FastAPI:
    """Build the app; the services (pool, writer) open in its lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services(settings) as built:
            app.state.services = built
            yield

    app = FastAPI(
        title="bloodtrace",
        version="1.0.0",
        summary="Event-sourced, hash-chained blood unit traceability",
        lifespan=lifespan,
        default_response_class=FastJSON,
    )
    problems.install(app)
    for module in (routes_health, routes_events, routes_verify):
        app.include_router(module.router)
    return app
