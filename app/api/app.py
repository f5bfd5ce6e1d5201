"""The FastAPI application factory: routers, error rendering, request context, metrics and
the log watcher, all built per app (nothing at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import Depends, FastAPI

from app.api import (
    catalogue_doc,
    openapi,
    problems,
    routes_admin,
    routes_audit,
    routes_docs,
    routes_donations,
    routes_donors,
    routes_events,
    routes_fhir,
    routes_health,
    routes_lookbacks,
    routes_schemas,
    routes_session,
    routes_stock,
    routes_stream,
    routes_tiles,
    routes_units,
    routes_users,
    routes_verifiable,
    routes_verify,
)
from app.api.body import EventIn
from app.api.deps import key_cache
from app.api.log_watch import LogWatcher
from app.api.metrics import Metrics
from app.api.middleware import RequestContext
from app.api.params import reject_unknown_query
from app.api.responses import FastJSON
from app.bootstrap import Services, open_services
from app.config import Settings
from app.web import mount as mount_web

ServicesFactory = Callable[[Settings], AbstractAsyncContextManager[Services]]
ROUTERS = (
    routes_health, routes_events, routes_stream, routes_units, routes_donations, routes_stock,
    routes_donors,
    routes_lookbacks, routes_audit, routes_verify, routes_verifiable, routes_tiles,
    routes_schemas, routes_fhir, routes_admin, routes_session, routes_users, routes_docs,
)
DESCRIPTION = """\
Every step of a blood unit's life is an event in one append-only, hash-chained log.

* **Auth**: `Authorization: Bearer <api key>`. A key has a role (collector, lab, processing,
  inventory, hospital, auditor, admin) and, except auditor and admin, a site. It records only
  the event types its role allows, for its own site; auditors record nothing. Site keys read
  what their site touched; auditor and admin keys read everything.
* **People** sign in with `POST /v1/session` (an `HttpOnly`, `SameSite=Strict` cookie;
  writes send `X-CSRF-Token`) and their events carry `actor.user_id`. Release, lifting a
  blood-establishment hold, emergency issue, an override, reinstating a donor and closing a
  lookback need their electronic `signature` (password again, and the meaning): an API key
  cannot sign.
* **Errors** are RFC 9457 `application/problem+json` with a stable `type` per rule, a
  `detail` and the offending `field`.
* **Change feed**: `GET /v1/events?after=` or server-sent events at `/v1/events/stream`
  (resume with `Last-Event-ID`): commit order equals position order, so nothing is skipped.
* **Schemas** of every event type: `/v1/schemas`. **FHIR R5** under `/v1/fhir`.
"""


def create_app(settings: Settings, services: ServicesFactory = open_services) -> FastAPI:
    """Build the app; the services (pool, writer) and the log watcher open in its lifespan."""
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with services(settings) as built:
            built.writer.add_observer(metrics.observe_batch)
            watcher = LogWatcher(built.app_url, key_cache(built))
            await watcher.start()
            app.state.services = built
            app.state.log_watcher = watcher
            try:
                yield
            finally:
                await watcher.stop()

    app = FastAPI(
        title="bloodtrace",
        version="1.0.0",
        summary="Event-sourced, hash-chained blood unit traceability",
        description=DESCRIPTION + catalogue_doc.role_matrix(),
        lifespan=lifespan,
        docs_url=None,  # routes_docs serves its own, with local assets and a strict CSP
        redoc_url=None,
        default_response_class=FastJSON,
        dependencies=[Depends(reject_unknown_query)],
    )
    app.state.metrics = metrics
    problems.install(app)
    openapi.install(app, [EventIn, routes_events.BatchIn, routes_lookbacks.LookbackIn,
                          routes_admin.KeyIn, routes_session.SessionIn, routes_users.UserIn,
                          routes_users.ProfileIn, routes_users.DisableIn,
                          routes_donors.DonorIn])
    app.include_router(routes_events.writes)
    for module in ROUTERS:
        app.include_router(module.router)
    # The pages (WEB.md §2), outside the OpenAPI document.
    mount_web(app, time_zone=settings.display_time_zone)
    app.add_middleware(RequestContext, metrics=metrics)
    return app
