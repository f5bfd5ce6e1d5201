"""Online verification of the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from app.api.access import require_national
from app.api.deps import ActorDep, ReadPoolDep, ServicesDep, SettingsDep
from app.api.responses import PROBLEMS, FastJSON
from app.log.verify import verify_log
from app.store.checkpoint_store import latest_checkpoint
from app.store.errors import map_driver_errors
from app.store.log_reader import PgLogRows

router = APIRouter(tags=["audit"])


class WitnessingOut(BaseModel):
    size: int
    cosignatures: int
    witness_quorum: int
    witnessed: bool


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_position: int | None
    reason: str | None
    latest_checkpoint: WitnessingOut | None
    """The latest signed checkpoint and how many witnesses cosigned it (tlog-witness)."""


@router.get("/v1/audit/verify", response_model=VerifyOut, responses=PROBLEMS)
async def verify(
    actor: ActorDep,
    pool: ReadPoolDep,
    settings: SettingsDep,
    services: ServicesDep,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**62)] = 1,
    to: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Re-hash every record in the range and recompute the chain (and, from position 1, the
    Merkle root), on worker processes for a long log. Reports the first bad position and why.
    A full pass reads the whole log, so it is for auditor and admin keys; a site checks its
    own units through the inclusion proofs of their provenance. Also says whether the latest
    checkpoint is witnessed."""
    require_national(actor, "online verification of the log")
    with map_driver_errors():  # the rows are read on connections of their own
        rows = PgLogRows(pool, dsn=services.read_url, workers=settings.verify_workers or None)
        report = await verify_log(rows, from_, to)
        async with pool.acquire() as con:
            signed = await latest_checkpoint(con, settings.log_origin)
    witnessing = None if signed is None else {
        "size": signed.checkpoint.size, "cosignatures": signed.cosignatures,
        "witness_quorum": settings.witness_quorum,
        "witnessed": signed.cosignatures >= settings.witness_quorum}
    return FastJSON(report.as_dict() | {"latest_checkpoint": witnessing})
