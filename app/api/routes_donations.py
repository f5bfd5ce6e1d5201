"""A donation and its components; a patient's units (reverse provenance)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from app.api import access, unit_views
from app.api.deps import ActorDep, ReadConDep
from app.api.params import DinPath, PatientPath
from app.api.responses import READ_PROBLEMS, FastJSON, Row
from app.store import read_queries

router = APIRouter(tags=["units"])


class Donation(Row):
    """A donation (or a pool's new DIN), its test results and every component."""

    din: str
    kind: str | None = None
    donor_id: str | None = None
    site_id: str | None = None
    tests: list[Row] = Field(default_factory=list)
    components: list[Row] = Field(default_factory=list)
    pooled_from: list[Row] = Field(default_factory=list)


class PatientUnits(BaseModel):
    patient_id: str
    units: list[Row]


@router.get("/v1/donations/{din}", response_model=Donation, responses=READ_PROBLEMS)
async def read_donation(
    din: DinPath,
    actor: ActorDep,
    con: ReadConDep,
) -> Response:
    """The donation and its components, with the donation's test results. A site key sees
    the components it may read (all of them for the collecting site and the testing lab)."""
    return FastJSON(await unit_views.donation_view(con, actor, din))


@router.get(
    "/v1/patients/{patient_id}/units", response_model=PatientUnits, responses=READ_PROBLEMS
)
async def read_patient_units(
    patient_id: PatientPath,
    actor: ActorDep,
    con: ReadConDep,
) -> Response:
    """Reverse provenance: every unit reserved for, issued to or transfused into the
    (pseudonymous) patient, with each action. Hospital keys see their own site's actions."""
    units = access.patient_view(actor, await read_queries.patient_units(con, patient_id))
    return FastJSON({"patient_id": patient_id, "units": units})
