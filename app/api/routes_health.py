"""Liveness and readiness (open, for probes) and Prometheus metrics (for a national key: a
scraper sends an auditor key as its bearer token)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.responses import Response

from app.api.access import require_national
from app.api.deps import ActorDep, MetricsDep, PoolDep, ServicesDep
from app.api.responses import LIST_PROBLEMS, FastJSON
from app.store.errors import StoreUnavailable, map_driver_errors
from app.store.log_reader import head_position
from app.store.replica import replica_lag

router = APIRouter(tags=["operations"])
READY_TIMEOUT_SECONDS = 1.0


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    log_size: int | None = None
    reason: str | None = None
    replica: dict[str, Any] | None = None
    """With a read replica: ``standby``, ``lag_events``, ``lag_bytes``, ``lag_seconds``."""


@router.get("/healthz", response_model=Health)
async def healthz() -> Response:
    """The process is up."""
    return FastJSON({"status": "ok"})


@router.get("/readyz", response_model=Ready, responses={503: {
    "model": Ready, "description": "The database does not answer within a second"}})
async def readyz(pool: PoolDep, services: ServicesDep) -> Response:
    """Ready only while the database answers within a second (and the read replica, when
    one is configured; its lag is reported)."""
    try:
        # Outside the timeout, so that its expiry is a failure to reach the database too.
        with map_driver_errors():
            async with asyncio.timeout(READY_TIMEOUT_SECONDS), pool.acquire() as con:
                position = await head_position(con)
    except StoreUnavailable as exc:
        reason = type(exc.__cause__).__name__
        return FastJSON({"ready": False, "reason": reason}, status_code=503)
    if services.read_pool is None:
        return FastJSON({"ready": True, "log_size": position})
    try:
        lag = await replica_lag(pool, services.read_pool)
    except StoreUnavailable as exc:
        reason = f"replica: {type(exc.__cause__).__name__}"
        return FastJSON({"ready": False, "log_size": position, "reason": reason},
                        status_code=503)
    return FastJSON({"ready": True, "log_size": position, "replica": lag.as_dict()})


_METRICS_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "Prometheus text exposition format",
    "content": {"text/plain": {"schema": {"type": "string"}}}}}


@router.get("/metrics", response_class=Response, responses=_METRICS_DOC | LIST_PROBLEMS)
async def metrics(registry: MetricsDep, actor: ActorDep, services: ServicesDep) -> Response:
    """Appends, refusals by rule, batch sizes, writer lock wait, request latency and, with a
    read replica, its lag. For auditor and admin keys."""
    require_national(actor, "the metrics")
    if services.read_pool is not None:
        try:
            lag = await replica_lag(services.pool, services.read_pool)
        except StoreUnavailable:
            registry.replica_down()
        else:
            registry.observe_replica(lag.events, lag.bytes, lag.seconds)
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
