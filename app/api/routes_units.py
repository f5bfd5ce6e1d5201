"""Reading one unit: its state, its history in the log, its provenance."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from app.api import unit_views
from app.api.deps import ActorDep, ReadConDep, SettingsDep
from app.api.params import UnitIdPath
from app.api.responses import READ_PROBLEMS, FastJSON, FeedEntry, Row

router = APIRouter(tags=["units"])

class Unit(Row):
    """A unit's current state (``rm_units``), its donation's tests, parents and children."""

    unit_id: str
    din: str
    status: str
    product_code: str | None = None
    category: str | None = None
    custodian_site_id: str | None = None
    expires_at: str | None = None
    tests: list[Row] = Field(default_factory=list)
    parents: list[Row] = Field(default_factory=list)
    children: list[Row] = Field(default_factory=list)


class UnitHistory(BaseModel):
    unit_id: str
    events: list[FeedEntry]


class Provenance(Row):
    """Donor pseudonyms → donations → lineage → custody chain → recipient or fate, and every
    event of the unit with its hashes and an RFC 9162 inclusion proof."""

    unit: Row
    donors: list[str]
    donations: list[Row]
    lineage: Row
    custody: list[Row]
    patients: list[Row]
    fate: Row
    events: list[Row]
    checkpoint: str | None = None


@router.get("/v1/units/{unit_id}", response_model=Unit, responses=READ_PROBLEMS)
async def read_unit(unit_id: UnitIdPath, actor: ActorDep, con: ReadConDep) -> Response:
    """Current state: status, custodian and location, ABO/RhD, expiry, the donation's test
    results, parents and children."""
    return FastJSON(await unit_views.unit_view(con, actor, unit_id))


@router.get("/v1/units/{unit_id}/history", response_model=UnitHistory, responses=READ_PROBLEMS)
async def read_history(unit_id: UnitIdPath, actor: ActorDep, con: ReadConDep) -> Response:
    """Every event of the unit, in log order, with its position, leaf and chain hashes (a
    unit's life is a few dozen events, so this list is not paged)."""
    return FastJSON(await unit_views.history_view(con, actor, unit_id))


@router.get(
    "/v1/units/{unit_id}/provenance", response_model=Provenance, responses=READ_PROBLEMS
)
async def read_provenance(
    unit_id: UnitIdPath, actor: ActorDep, con: ReadConDep, settings: SettingsDep
) -> Response:
    """Lineage, custody chain, donor pseudonyms, recipient or fate, and for every event of
    the unit an RFC 9162 inclusion proof: in the latest signed checkpoint's tree when it
    covers the event (``signed: true``; the note is in ``checkpoint``), else in the tree of
    the current log head."""
    return FastJSON(await unit_views.provenance_view(con, actor, unit_id,
                                                     settings.log_origin))
