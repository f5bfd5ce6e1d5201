"""Liveness and readiness."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.responses import Response

from app.api.deps import PoolDep
from app.api.responses import FastJSON

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up."""
    return FastJSON({"status": "ok"})


@router.get("/readyz")
async def readyz(pool: PoolDep) -> Response:
    """Ready only while the database answers within a second."""
    try:
        async with asyncio.timeout(1.0):
            async with pool.acquire() as con:
                position = await con.fetchval("SELECT position FROM log_head WHERE id = 1")
    except Exception as exc:
        return FastJSON({"ready": False, "reason": type(exc).__name__}, status_code=503)
    return FastJSON({"ready": True, "log_size": position})
