"""FastAPI dependencies as ``Annotated`` aliases. Everything comes from the composition root."""

from __future__ import annotations

import time
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from app.bootstrap import Services
from app.config import Settings
from app.errors import Unauthenticated
from app.events.envelope import Actor
from app.store.keys import authenticate
from app.store.writer import Writer

AUTH_CACHE_SECONDS = 30.0


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_pool(services: ServicesDep) -> asyncpg.Pool:
    return services.pool


def get_settings(services: ServicesDep) -> Settings:
    return services.settings


def get_writer(services: ServicesDep) -> Writer:
    return services.writer


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
WriterDep = Annotated[Writer, Depends(get_writer)]


async def get_actor(request: Request, services: ServicesDep) -> Actor:
    """The key behind ``Authorization: Bearer``. Verified keys are cached briefly, so a
    revocation takes effect within ``AUTH_CACHE_SECONDS``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send Authorization: Bearer <api key>")
    token = token.strip()
    cache: dict[str, tuple[float, Actor]] = services.extras.setdefault("auth_cache", {})
    hit = cache.get(token)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    async with services.pool.acquire() as con:
        actor = await authenticate(con, token)
    if actor is None:
        raise Unauthenticated("unknown or revoked API key")
    if len(cache) > 10_000:
        cache.clear()
    cache[token] = (now + AUTH_CACHE_SECONDS, actor)
    return actor


ActorDep = Annotated[Actor, Depends(get_actor)]
