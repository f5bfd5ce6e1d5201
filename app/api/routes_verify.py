"""Online verification of the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import Response

from app.api.access import require_national
from app.api.deps import ActorDep, ReadPoolDep
from app.api.responses import PROBLEMS, FastJSON
from app.log.verify import verify_log
from app.store.errors import map_driver_errors
from app.store.log_reader import PgLogRows

router = APIRouter(tags=["audit"])


class VerifyOut(BaseModel):
    ok: bool
    checked: int
    first_bad_position: int | None
    reason: str | None


@router.get("/v1/audit/verify", response_model=VerifyOut, responses=PROBLEMS)
async def verify(
    actor: ActorDep,
    pool: ReadPoolDep,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**62)] = 1,
    to: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    """Re-hash every record in the range and recompute the chain (and, from position 1, the
    Merkle root). Reports the first bad position and why. A full pass reads the whole log, so
    it is for auditor and admin keys; a site checks its own units through the inclusion proofs
    of their provenance."""
    require_national(actor, "online verification of the log")
    with map_driver_errors():  # the rows are read on connections of their own
        report = await verify_log(PgLogRows(pool), from_, to)
    return FastJSON(report.as_dict())
