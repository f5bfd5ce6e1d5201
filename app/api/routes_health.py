"""Liveness, readiness and Prometheus metrics (open, for probes and scrapers)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from starlette.responses import Response

from app.api.deps import MetricsDep, PoolDep
from app.api.responses import FastJSON
from app.store.errors import StoreUnavailable, map_driver_errors
from app.store.log_reader import head_position

router = APIRouter(tags=["operations"])
READY_TIMEOUT_SECONDS = 1.0


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    ready: bool
    log_size: int | None = None
    reason: str | None = None


@router.get("/healthz", response_model=Health)
async def healthz() -> Response:
    """The process is up."""
    return FastJSON({"status": "ok"})


@router.get("/readyz", response_model=Ready, responses={503: {
    "model": Ready, "description": "The database does not answer within a second"}})
async def readyz(pool: PoolDep) -> Response:
    """Ready only while the database answers within a second."""
    try:
        # Outside the timeout, so that its expiry is a failure to reach the database too.
        with map_driver_errors():
            async with asyncio.timeout(READY_TIMEOUT_SECONDS), pool.acquire() as con:
                position = await head_position(con)
    except StoreUnavailable as exc:
        reason = type(exc.__cause__).__name__
        return FastJSON({"ready": False, "reason": reason}, status_code=503)
    return FastJSON({"ready": True, "log_size": position})


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text exposition format",
    "content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(registry: MetricsDep) -> Response:
    """Appends, refusals by rule, batch sizes, writer lock wait, request latency."""
    return Response(registry.exposition(), media_type=CONTENT_TYPE_LATEST)
