"""FHIR R5 ``AdverseEvent`` over HTTP for reported transfusion reactions (read and search by
unit), and ``BiologicallyDerivedProduct`` in the new states (transfusion started, returned
late); every resource validated by the fhir.resources models.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
from fhir.resources.adverseevent import AdverseEvent
from fhir.resources.biologicallyderivedproduct import BiologicallyDerivedProduct
from fhir.resources.bundle import Bundle

from tests.e2e.api_world import PROBLEM
from tests.e2e.test_haemovigilance_views import ClockedNet
from tests.integration.test_transfusion_views import legacy_reaction
from tests.support.unit_events import append_raw

FHIR_JSON = "application/fhir+json"
LOCAL = "https://bloodtrace.dev/fhir/"
MASKED = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _property(product: BiologicallyDerivedProduct, code: str) -> object:
    for prop in product.property or ():
        if prop.type.coding[0].code == code:
            return prop
    return None


async def test_adverse_event_read_and_search_are_valid_r5(client, make_key, fresh_db):
    net = await ClockedNet(client, make_key, None).setup()
    red = await net.red_cells_at(1)
    await net.transfuse(red, "PAT-1")
    fnhtr = await net.reaction(red, "PAT-1", "fnhtr", "non_severe", "possible")
    died = await net.red_cells_at(2)
    await net.transfuse(died, "PAT-2")
    death = await net.reaction(died, "PAT-2", "taco", "death", "likely")

    response = await net.get("hospital@H1", f"/v1/fhir/AdverseEvent/{fnhtr['event_id']}")
    assert response.status_code == 200 and response.headers["content-type"] == FHIR_JSON
    event = AdverseEvent.model_validate(response.json())
    assert (event.id, event.status, event.actuality) == (fnhtr["event_id"], "completed",
                                                          "actual")
    assert event.category[0].coding[0].code == "transfusion-reaction"
    assert (event.code.coding[0].system, event.code.coding[0].code) == (
        LOCAL + "CodeSystem/reaction-type", "fnhtr")
    assert event.subject.type == "Patient" and event.subject.identifier.value == "PAT-1"
    [suspect] = event.suspectEntity
    assert suspect.instanceReference.reference == f"BiologicallyDerivedProduct/{red}"
    assert suspect.causality.entityRelatedness.coding[0].code == "possible"
    assert event.seriousness.coding[0].code == "non-serious"
    assert event.outcome is None
    assert event.occurrenceDateTime is not None and event.recordedDate is not None
    assert event.participant[0].actor.identifier.value == "H1"

    fatal = AdverseEvent.model_validate((await net.get(
        "auditor", f"/v1/fhir/AdverseEvent/{death['event_id']}")).json())
    assert fatal.seriousness.coding[0].code == "serious"
    assert fatal.outcome[0].coding[0].code == "fatal"
    assert fatal.subject.identifier.value == "PAT-2"  # national keys see every patient

    # The blood bank that collected the unit reads the reaction, not the patient's id.
    masked = AdverseEvent.model_validate((await net.get(
        "collector@BB1", f"/v1/fhir/AdverseEvent/{fnhtr['event_id']}")).json())
    assert masked.subject.identifier is None
    assert (masked.subject.extension[0].url, masked.subject.extension[0].valueCode) == (
        MASKED, "masked")
    # Another hospital is refused, whether or not the report exists; a national key gets 404.
    for event_id in (fnhtr["event_id"], str(uuid.uuid4())):
        refused = await net.get("hospital@H2", f"/v1/fhir/AdverseEvent/{event_id}")
        assert refused.status_code == 403 and refused.headers["content-type"].startswith(
            PROBLEM)
    missing = await net.get("auditor", f"/v1/fhir/AdverseEvent/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["rule"] == "not-found"
    assert (await net.get("auditor", "/v1/fhir/AdverseEvent/not-a-uuid")).status_code == 422

    # A v1 record with a free-text type reads as uncoded, its text kept.
    con = await asyncpg.connect(fresh_db)
    try:
        await append_raw(con, [legacy_reaction(red, datetime.now(UTC), "fever")])
    finally:
        await con.close()
    search = await net.get("hospital@H1", "/v1/fhir/AdverseEvent", unit_id=red)
    assert search.status_code == 200 and search.headers["content-type"] == FHIR_JSON
    bundle = Bundle.model_validate(search.json())
    assert bundle.type == "searchset" and bundle.total == 2
    found = [AdverseEvent.model_validate(e.resource.model_dump()) for e in bundle.entry]
    assert [(e.code.coding[0].code, e.code.text) for e in found] == [
        ("fnhtr", "fnhtr"), ("uncoded", "fever")]
    assert all(e.fullUrl.endswith(f"/AdverseEvent/{r.id}") for e, r in zip(
        bundle.entry, found, strict=True))

    other = await net.get("hospital@H2", "/v1/fhir/AdverseEvent", unit_id=red)
    assert other.status_code == 403
    empty = Bundle.model_validate((await net.get(
        "auditor", "/v1/fhir/AdverseEvent", unit_id="A999925999999-E0398V00")).json())
    assert empty.total == 0 and not empty.entry


async def test_product_in_the_new_states(client, make_key):
    net = ClockedNet(client, make_key, datetime.now(UTC) - timedelta(hours=3))
    await net.setup()
    # Issued three hours ago and returned now, not in a validated shipper: returned late.
    late = await net.red_cells_at(1)
    await net.issued(late, "PAT-9")
    net.at = None
    await net.ok("hospital@H1", "UnitReturned", {"unit_id": late, "reason": "not needed"})
    product = BiologicallyDerivedProduct.model_validate((await net.get(
        "hospital@H1", f"/v1/fhir/BiologicallyDerivedProduct/{late}")).json())
    assert product.productStatus.code == "unavailable"
    assert _property(product, "returned-late").valueBoolean is True

    # Started at the bedside, then a bacterial reaction holds the donation's live units, the
    # one in the patient included: it is still issued, with its hold and its start listed.
    red = await net.red_cells_at(2)
    await net.issued(red, "PAT-1")
    await net.bedside(red, "PAT-1")
    started = BiologicallyDerivedProduct.model_validate((await net.get(
        "hospital@H1", f"/v1/fhir/BiologicallyDerivedProduct/{red}")).json())
    assert started.productStatus.code == "issued"
    assert _property(started, "transfusion-started").valuePeriod.start is not None
    await net.reaction(red, "PAT-1", "bacterial_infection", "severe", "likely")
    held = BiologicallyDerivedProduct.model_validate((await net.get(
        "hospital@H1", f"/v1/fhir/BiologicallyDerivedProduct/{red}")).json())
    assert _property(held, "hold") is not None
    assert held.productStatus.code == "issued"
    plasma = red.replace("E0398V00", "E2555V00")  # its co-component, held at BB1
    co = BiologicallyDerivedProduct.model_validate((await net.get(
        "admin", f"/v1/fhir/BiologicallyDerivedProduct/{plasma}")).json())
    assert co.productStatus.code == "unavailable" and _property(co, "hold") is not None
