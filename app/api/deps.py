"""FastAPI dependencies as ``Annotated`` aliases. Everything comes from the composition root."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from app.api.access import require_recorder
from app.api.auth_guard import AuthGuard
from app.api.key_cache import KeyCache
from app.api.metrics import Metrics
from app.bootstrap import Services
from app.config import Settings
from app.errors import CsrfTokenRequired, Unauthenticated
from app.events.catalogue import Catalogue, default_catalogue
from app.events.messages import Actor
from app.people.service import people_of
from app.store.conn import Conn
from app.store.errors import StoreUnavailable, map_driver_errors
from app.store.keys import authenticate
from app.store.writer import Writer

SESSION_COOKIE = "bt_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer = HTTPBearer(auto_error=False, description="An API key: `bt_<key id>_<secret>`")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_pool(services: ServicesDep) -> asyncpg.Pool:
    return services.pool


async def get_read_pool(services: ServicesDep) -> asyncpg.Pool:
    """The replica's pool when ``read_database_url`` is set, else the primary's."""
    return services.read_pool or services.pool


async def get_settings(services: ServicesDep) -> Settings:
    return services.settings


async def get_writer(services: ServicesDep) -> Writer:
    return services.writer


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def get_catalogue() -> Catalogue:
    """The catalogue the read views apply (storage ranges, the emergency crossmatch window,
    serious severities). The default one until the composition root exposes the configured
    catalogue."""
    return default_catalogue()


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
ReadPoolDep = Annotated[asyncpg.Pool, Depends(get_read_pool)]
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
WriterDep = Annotated[Writer, Depends(get_writer)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]


@asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[Conn]:
    """A pooled connection for the block. Waiting longer than the pool's bound
    (``pool_acquire_timeout_s``: the database is down, or every connection is busy), or
    losing the connection inside the block, raises ``StoreUnavailable``, which the edge
    renders as a 503."""
    async with map_driver_errors(), pool.acquire() as con:
        yield con


async def get_con(pool: PoolDep) -> AsyncIterator[Conn]:
    """A pooled connection, returned to the pool as soon as the route function returns
    (a driver failure in the route is a ``StoreUnavailable``, as in ``connection``)."""
    async with connection(pool) as con:
        yield con


ConDep = Annotated[Conn, Depends(get_con, scope="function")]


async def session_actor(request: Request, services: Services, token: str, *,
                        keep_alive: bool = True) -> Actor:
    """The person of a live session cookie. A writing request must echo the session's CSRF
    token in ``X-CSRF-Token``: SameSite=Strict keeps other sites' forms out, and the token
    keeps out whatever a same-site page might still send."""
    actor, csrf, _ = await people_of(services).person(token, keep_alive=keep_alive)
    if request.method not in SAFE_METHODS and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, "").encode(), csrf.encode()):
        raise CsrfTokenRequired(
            f"a writing request made with the session cookie sends {CSRF_HEADER}: the "
            "csrf_token given at sign-in", field=CSRF_HEADER)
    return actor


async def get_read_con(pool: ReadPoolDep) -> AsyncIterator[Conn]:
    """``get_con`` on the read pool (a replica when one is configured): for reads that need
    not see the caller's own latest write."""
    async with connection(pool) as con:
        yield con


ReadConDep = Annotated[Conn, Depends(get_read_con, scope="function")]


async def get_actor(
    request: Request,
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    """The caller: see ``actor_of``."""
    return await actor_of(request, services, credentials)


async def actor_of(request: Request, services: Services,
                   credentials: HTTPAuthorizationCredentials | None, *,
                   keep_alive: bool = True) -> Actor:
    """The key behind ``Authorization: Bearer``, or else the person of the session cookie
    (``session_actor``; ``keep_alive=False`` when the check is not the person's own use, as
    an open change feed's). A verified key is cached until it is revoked, which every
    process hears at once (``app.api.key_cache``); failed ones are refused by ``AuthGuard``
    before they reach the database again."""
    if credentials is None or not credentials.credentials.strip():
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await session_actor(request, services, cookie, keep_alive=keep_alive)
        raise Unauthenticated("send Authorization: Bearer <api key>, or sign in "
                              "(POST /v1/session)")
    token = credentials.credentials.strip()
    cache = key_cache(services)
    hit = cache.get(token)
    if hit is not None:
        return hit
    guard = auth_guard(services)
    if not guard.well_formed(token) or guard.recently_refused(token):
        raise Unauthenticated("unknown or revoked API key")
    client = request.client.host if request.client else "unknown"
    wait = guard.wait_seconds(client)
    if wait:
        raise HTTPException(429, "too many failed authentications from this client",
                            headers={"Retry-After": str(wait)})
    generation = cache.generation
    try:
        async with connection(services.pool) as con:
            actor = await authenticate(con, token)
    except StoreUnavailable:
        # The database is down, and with it the channel revocations come by: a key verified
        # before goes on to fail where the request needs the database (``KeyCache``). Not
        # with a replica, which may still serve what a revoked key must not read.
        known = cache.stale(token) if services.read_pool is None else None
        if known is None:
            raise
        return known
    if actor is None:
        cache.drop(token)
        guard.failed(client, token)
        raise Unauthenticated("unknown or revoked API key")
    cache.put(token, actor, generation)
    return actor


def auth_guard(services: Services) -> AuthGuard:
    """The process's ``AuthGuard``, sized from the settings."""
    guard = services.extras.get("auth_guard")
    if guard is None:
        guard = services.extras["auth_guard"] = AuthGuard(
            burst=services.settings.auth_failures_burst,
            per_second=services.settings.auth_failures_per_second)
    assert isinstance(guard, AuthGuard)
    return guard


def key_cache(services: Services) -> KeyCache:
    """The process's cache of verified keys; untrusted (so unused) until the app's
    ``LogWatcher`` hears revocations."""
    cache = services.extras.get("key_cache")
    if cache is None:
        cache = services.extras["key_cache"] = KeyCache()
    assert isinstance(cache, KeyCache)
    return cache


ActorDep = Annotated[Actor, Depends(get_actor)]


async def get_recorder(actor: ActorDep) -> Actor:
    """A key that may record events at all (auditors are refused before the body is read)."""
    require_recorder(actor)
    return actor


async def recorder_of(request: Request) -> Actor:
    """``get_recorder`` without dependency solving (``app.api.lean``): the same steps, with
    the same ``bearer`` scheme reading the header."""
    services: Services = request.app.state.services
    actor = await actor_of(request, services, await bearer(request))
    require_recorder(actor)
    return actor


RecorderDep = Annotated[Actor, Depends(get_recorder)]
