"""The hospital workbench (``/hospital``: receipt by scanning, patient group and
requirements, reservation and crossmatch, issue, bedside check and start, completion,
return, reaction) and the blood-bank workbench (``/bank``: donor screening and collection,
which work on a phone, split, pool and modify, result entry, release, storage and
shipping). Each form records one step through ``app.web.record``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.api.params import IDENT
from app.web.i18n import N_
from app.web.shell import PersonDep
from app.web.workbench import FormPath, FormQuery, RecordedQuery, page, submit
from app.web.workbench_forms import BANK, HOSPITAL

router = APIRouter(include_in_schema=False)

ShipmentQuery = Annotated[str | None, Query(max_length=64, pattern=IDENT)]
TempQuery = Annotated[str | None, Query(max_length=6, pattern=r"^-?[0-9]{1,5}$")]
TEMPLATE = "workbench/page.html"
TITLES = {"/hospital": N_("Hospital workbench"), "/bank": N_("Blood-bank workbench")}


@router.get("/hospital")
async def hospital(request: Request, person: PersonDep, form: FormQuery = None,
                   recorded: RecordedQuery = None, shipment_id: ShipmentQuery = None,
                   temp_dc: TempQuery = None) -> Response:
    """The hospital's steps; after a receipt, the shipment's id and temperature stay for
    the next unit scanned."""
    return await page(request, person, TEMPLATE, "/hospital", HOSPITAL, form, recorded,
                      {"shipment_id": shipment_id, "temp_dc": temp_dc},
                      title=TITLES["/hospital"])


@router.post("/hospital/{name}")
async def hospital_step(request: Request, person: PersonDep, name: FormPath) -> Response:
    return await submit(request, person, TEMPLATE, "/hospital", HOSPITAL, name,
                        title=TITLES["/hospital"])


@router.get("/bank")
async def bank(request: Request, person: PersonDep, form: FormQuery = None,
               recorded: RecordedQuery = None) -> Response:
    return await page(request, person, TEMPLATE, "/bank", BANK, form, recorded,
                      title=TITLES["/bank"])


@router.post("/bank/{name}")
async def bank_step(request: Request, person: PersonDep, name: FormPath) -> Response:
    return await submit(request, person, TEMPLATE, "/bank", BANK, name,
                        title=TITLES["/bank"])
