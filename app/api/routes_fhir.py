"""FHIR R5: ``BiologicallyDerivedProduct`` read and search by DIN, ``Provenance`` by target,
``AdverseEvent`` (a reported transfusion reaction) read and search by unit.

Answers are ``application/fhir+json``; errors stay RFC 9457 problems like the rest of the
API. The read scope is the same as for ``/v1/units``: a site key sees the units its site
touched (a search simply leaves the others out), and the reactions reported on them; the
patient of a reaction only where it may see the patient's id (else ``subject`` is masked).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from app.api import access
from app.api.deps import ActorDep, CatalogueDep, ReadConDep, SettingsDep
from app.api.params import DIN, UNIT_ID, UnitIdPath
from app.api.redact import feed_view, hide_patients
from app.api.responses import LIST_PROBLEMS, READ_PROBLEMS
from app.config import Settings
from app.errors import InvalidInput, NotFound
from app.events import isbt
from app.events.catalogue import Catalogue
from app.fhir import mapping
from app.store import read_queries
from app.store.api_access import unit_exists
from app.store.conn import Conn
from app.store.log_reader import history

router = APIRouter(prefix="/v1/fhir", tags=["fhir"])
FHIR_JSON = "application/fhir+json"
_COLLECTION_TYPES = ("DonationCollected", "UnitsPooled")


def _urls(settings: Settings, request: Request) -> tuple[str, str]:
    """The FHIR base and this search's own URL, from the configured public URL: never from
    the request's ``Host`` header, which any client may set."""
    base = settings.public_base_url().rstrip("/")
    query = request.url.query
    return base + "/v1/fhir", base + request.url.path + (f"?{query}" if query else "")


def _fhir(resource: dict[str, Any]) -> Response:
    return Response(orjson.dumps(resource), media_type=FHIR_JSON)


def _doc(what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {FHIR_JSON: {"schema": {
        "type": "object", "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string"}}}}}}}


async def _product(con: Conn, unit_id: str, catalogue: Catalogue) -> dict[str, Any] | None:
    unit = await read_queries.unit_state(con, unit_id)
    if unit is None:
        return None
    donation = await read_queries.donation(con, unit["din"])
    collector = next((e["actor"] for e in await history(con, "donation", unit["din"])
                      if e["type"] in _COLLECTION_TYPES), None)
    storage = None
    if unit.get("category") in catalogue.storage:
        rule = catalogue.storage_for(unit["category"], unit.get("product_code"),
                                     tuple(unit.get("modifications") or ()))
        storage = (rule.min_dc, rule.max_dc)
    return mapping.product(unit, donation=donation, collector=collector, storage_dc=storage)


@router.get("/BiologicallyDerivedProduct/{unit_id}",
            responses=_doc("A BiologicallyDerivedProduct") | READ_PROBLEMS)
async def read_product(
    unit_id: UnitIdPath,
    actor: ActorDep, con: ReadConDep, catalogue: CatalogueDep,
) -> Response:
    """One unit as a FHIR R5 ``BiologicallyDerivedProduct``: ISBT product code, DIN as
    ``biologicalSourceEvent``, division, parents, status, expiry, collection and storage
    temperature range."""
    canonical = isbt.parse_unit_id(unit_id, "unit_id")
    await access.require_unit(con, actor, canonical, isbt.din_of_unit(canonical))
    resource = await _product(con, canonical, catalogue)
    assert resource is not None
    await hide_patients(con, actor, resource)
    return _fhir(resource)


@router.get("/BiologicallyDerivedProduct",
            responses=_doc("A searchset Bundle of BiologicallyDerivedProduct") | LIST_PROBLEMS)
async def search_products(
    request: Request, actor: ActorDep, con: ReadConDep, catalogue: CatalogueDep,
    settings: SettingsDep,
    source_event: Annotated[str, Query(
        alias="biological-source-event", pattern=DIN,
        description="a DIN (bare, with check character or barcode form)")],
) -> Response:
    """Every component of a donation (by DIN) as a searchset ``Bundle``."""
    din = isbt.parse_din(source_event, "biological-source-event")
    found = await read_queries.donation(con, din)
    unit_ids = [c["unit_id"] for c in found["components"]] if found else []
    resources = [r for u in await access.readable_units(con, actor, unit_ids)
                 if (r := await _product(con, u, catalogue)) is not None]
    await hide_patients(con, actor, resources)
    return _fhir(mapping.searchset(resources, *_urls(settings, request)))


@router.get("/Provenance",
            responses=_doc("A searchset Bundle of Provenance") | LIST_PROBLEMS)
async def search_provenance(
    request: Request, actor: ActorDep, con: ReadConDep, settings: SettingsDep,
    target: Annotated[str, Query(
        pattern="^BiologicallyDerivedProduct/" + UNIT_ID[1:],
        description="BiologicallyDerivedProduct/{unit_id}",
        examples=["BiologicallyDerivedProduct/A999926123456-E0398V00"])],
) -> Response:
    """One ``Provenance`` per event of the unit, in log order: activity (event type),
    targets, times, the acting key and its site, and the event's position and hashes."""
    kind, _, raw_id = target.partition("/")
    if kind != "BiologicallyDerivedProduct":
        raise InvalidInput("target must be BiologicallyDerivedProduct/{unit_id}",
                           field="target")
    unit_id = isbt.parse_unit_id(raw_id, "target")
    if not await _searchable_unit(con, actor, unit_id):
        return _fhir(mapping.searchset([], *_urls(settings, request)))
    entries = await feed_view(con, actor, await history(con, "unit", unit_id))
    resources = [mapping.provenance(e, unit_id) for e in entries]
    return _fhir(mapping.searchset(resources, *_urls(settings, request)))


async def _searchable_unit(con: Conn, actor: Any, unit_id: str) -> bool:
    """Whether a search by ``unit_id`` has anything to find: a national key searching an
    unknown unit finds an empty Bundle (False); a site key may search only a unit it may
    read, and is refused otherwise (403, whether the unit exists or not)."""
    if access.reads_everything(actor) and not await unit_exists(con, unit_id):
        return False
    await access.require_unit(con, actor, unit_id, isbt.din_of_unit(unit_id))
    return True


ReactionIdPath = Annotated[UUID, Path(description="the event id of the reaction report",
                                      examples=["5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11"])]


async def _adverse_events(con: Conn, actor: Any, reactions: list[dict[str, Any]],
                          catalogue: Catalogue) -> list[dict[str, Any]]:
    await hide_patients(con, actor, reactions)
    serious = catalogue.patients.serious_severities
    return [mapping.adverse_event(r, serious) for r in reactions]


@router.get("/AdverseEvent/{event_id}", responses=_doc("An AdverseEvent") | READ_PROBLEMS)
async def read_adverse_event(
    event_id: ReactionIdPath, actor: ActorDep, con: ReadConDep, catalogue: CatalogueDep,
) -> Response:
    """A reported transfusion reaction as a FHIR R5 ``AdverseEvent``: coded reaction type,
    seriousness from the severity, the unit as suspect entity with the imputability, the
    patient pseudonym as subject (masked where the key may not see it)."""
    found = await read_queries.reaction(con, event_id)
    if found is None or not await access.may_read_unit(con, actor, found["unit_id"]):
        if access.reads_everything(actor):
            raise NotFound(f"no reaction report with event id {event_id}", field="event_id")
        raise access.out_of_scope(actor, f"reaction report {event_id}")
    [resource] = await _adverse_events(con, actor, [found], catalogue)
    return _fhir(resource)


@router.get("/AdverseEvent",
            responses=_doc("A searchset Bundle of AdverseEvent") | LIST_PROBLEMS)
async def search_adverse_events(
    request: Request, actor: ActorDep, con: ReadConDep, catalogue: CatalogueDep,
    settings: SettingsDep,
    unit_id: Annotated[str, Query(pattern=UNIT_ID, examples=["A999926123456-E0398V00"],
                                  description="the unit the reactions were reported on")],
) -> Response:
    """Every reaction reported on a unit, in log order, as a searchset ``Bundle``."""
    canonical = isbt.parse_unit_id(unit_id, "unit_id")
    if not await _searchable_unit(con, actor, canonical):
        return _fhir(mapping.searchset([], *_urls(settings, request)))
    resources = await _adverse_events(
        con, actor, await read_queries.reactions_of_unit(con, canonical), catalogue)
    return _fhir(mapping.searchset(resources, *_urls(settings, request)))
