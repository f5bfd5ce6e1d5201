"""The web app's step-recording helper against real PostgreSQL: a form's step goes through
the same path as ``POST /v1/events`` (the person as actor, the domain's authorisation and
rules, the writer), signed steps check the password again, and a refused step leaves the
log as it was."""

from __future__ import annotations

import secrets
from typing import Any
from uuid import uuid4

import pytest

from app.bootstrap import Services
from app.errors import (
    RoleNotAllowed,
    ShipmentNotAllowed,
    SignatureInvalid,
    SignatureRequired,
    SiteScopeViolation,
)
from app.events.messages import Actor
from app.people.service import OPERATOR, people_of
from app.store.log_reader import head_position, history
from app.web.record import Credentials, Step, envelope, record_step, unit_of
from app.web.steps import step_of
from app.web.workbench_forms import BANK, form_named

DIN = "A999926000101"
WHOLE, RED, PLASMA = f"{DIN}-E0001V00", f"{DIN}-E0398V00", f"{DIN}-E2555V00"


async def _person(services: Services, user: str, role: str,
                  site: str | None) -> tuple[Actor, str]:
    password = "wb15-" + secrets.token_urlsafe(18)
    await people_of(services).create(OPERATOR, user, role, site, password=password)
    return Actor.person(user, role, site), password


async def _ok(services: Services, who: Actor, type_: str, data: dict[str, Any],
              credentials: Credentials | None = None) -> Any:
    return await record_step(services, who, Step(type_, data), credentials)


async def _head(services: Services) -> int:
    async with services.pool.acquire() as con:
        return await head_position(con)


@pytest.fixture
async def world(services: Services) -> dict[str, tuple[Actor, str]]:
    """Sites, one person per role, and a whole-blood unit split and tested at BB1."""
    people = {"admin": await _person(services, "wb-admin", "admin", None)}
    admin = people["admin"][0]
    for site, kind in (("BB1", "blood_bank"), ("LAB1", "lab"), ("H1", "hospital")):
        await _ok(services, admin, "SiteRegistered", {
            "site_id": site, "name": f"Site {site}", "kind": kind, "region": "Damascus"})
    await _ok(services, admin, "LabServiceAgreed", {"collection_site_id": "BB1",
                                                    "lab_site_id": "LAB1"})
    for role, site in (("collector", "BB1"), ("processing", "BB1"), ("lab", "LAB1"),
                       ("hospital", "H1"), ("auditor", None)):
        people[role] = await _person(services, f"wb-{role}", role, site)
    collector, processing, lab = (people[r][0] for r in ("collector", "processing", "lab"))
    await _ok(services, collector, "DonorRegistered", {"donor_id": "DNR-WB0001", "sex": "M",
                                                       "birth_year": 1980})
    await _ok(services, collector, "DonorScreened", {"donor_id": "DNR-WB0001",
                                                     "site_id": "BB1", "hb_g_l": 150,
                                                     "pass": True})
    await _ok(services, collector, "DonationCollected", {
        "din": DIN, "donor_id": "DNR-WB0001", "site_id": "BB1",
        "collection_type": "whole_blood", "product_code": "E0001V00",
        "category": "whole_blood", "volume_ml": 450})
    await _ok(services, processing, "UnitSplit", {"unit_id": WHOLE, "components": [
        {"product_code": "E0398V00", "category": "red_cells", "volume_ml": 250},
        {"product_code": "E2555V00", "category": "plasma", "volume_ml": 180}]})
    for marker, result in (("HIV", "non_reactive"), ("HBV", "non_reactive"),
                           ("HCV", "non_reactive"), ("SYPHILIS", "non_reactive"),
                           ("ABO", "O"), ("RHD", "NEG")):
        await _ok(services, lab, "TestResultRecorded", {
            "din": DIN, "marker": marker, "result": result, "lab_site_id": "LAB1"})
    return people


async def test_a_release_is_signed_with_the_password_typed_again(
        services: Services, world: dict[str, tuple[Actor, str]]) -> None:
    processing, password = world["processing"]
    before = await _head(services)
    with pytest.raises(SignatureRequired) as unsigned:
        await _ok(services, processing, "UnitReleased", {"unit_id": RED})
    assert unsigned.value.extra["meaning"] == "release"
    with pytest.raises(SignatureInvalid) as wrong:
        await _ok(services, processing, "UnitReleased", {"unit_id": RED},
                  Credentials("not the password at all"))
    assert wrong.value.field == "signature.password"
    assert await _head(services) == before, "a refused step leaves the log as it was"

    done = await _ok(services, processing, "UnitReleased", {"unit_id": RED},
                     Credentials(password))
    assert (done.type, done.unit_id, done.signed_as, done.replayed) == (
        "UnitReleased", RED, "release", False)
    assert done.position == before + 1
    async with services.pool.acquire() as con:
        stored = [e for e in await history(con, "unit", RED) if e["type"] == "UnitReleased"]
    assert len(stored) == 1 and stored[0]["position"] == done.position
    assert stored[0]["actor"]["user_id"] == "wb-processing"
    signature = stored[0]["signature"]
    assert set(signature) == {"user_id", "meaning", "signed_at"}
    assert (signature["user_id"], signature["meaning"]) == ("wb-processing", "release")
    assert password not in str(stored[0])


async def test_the_domain_refuses_what_the_api_refuses(
        services: Services, world: dict[str, tuple[Actor, str]]) -> None:
    hospital = world["hospital"][0]
    before = await _head(services)
    with pytest.raises(RoleNotAllowed):
        await _ok(services, hospital, "UnitSplit", {"unit_id": PLASMA, "components": []})
    with pytest.raises(RoleNotAllowed):
        await _ok(services, world["auditor"][0], "UnitStored", {
            "unit_id": RED, "site_id": "BB1", "location": "fridge 1"})
    with pytest.raises(SiteScopeViolation):
        await _ok(services, world["collector"][0], "UnitStored", {
            "unit_id": RED, "site_id": "H1", "location": "fridge 1"})
    # An unreleased unit is not shipped to a hospital; the issue path never sees it.
    processing = world["processing"][0]
    with pytest.raises(ShipmentNotAllowed):
        await _ok(services, processing, "UnitShipped", {
            "unit_id": RED, "from_site_id": "BB1", "to_site_id": "H1",
            "shipment_id": "SHP-WB-1"})
    assert await _head(services) == before


async def test_the_same_form_submitted_twice_records_once(
        services: Services, world: dict[str, tuple[Actor, str]]) -> None:
    processing = world["processing"][0]
    step = Step("UnitStored", {"unit_id": PLASMA, "site_id": "BB1", "location": "freezer 2"},
                event_id=str(uuid4()))
    first = await record_step(services, processing, step)
    again = await record_step(services, processing, step)
    assert (again.position, again.event_id, again.replayed) == (
        first.position, first.event_id, True)
    assert await _head(services) == first.position


def test_the_envelope_carries_a_signature_only_on_a_signed_step() -> None:
    signed = envelope(Step("UnitIssued", {"unit_id": RED, "patient_id": "PAT-1",
                                          "emergency": True}),
                      Credentials("pw-123456789012", "123456"))
    assert signed["signature"] == {"password": "pw-123456789012", "totp": "123456",
                                   "meaning": "emergency issue"}
    plain = envelope(Step("UnitIssued", {"unit_id": RED, "patient_id": "PAT-1"}),
                     Credentials("pw-123456789012"))
    assert "signature" not in plain
    assert "signature" not in envelope(Step("UnitReleased", {"unit_id": RED}),
                                       Credentials(""))
    assert "***" in repr(Credentials("secret-password"))
    assert unit_of({"din": DIN, "product_code": "E0001V00"}) == WHOLE
    assert unit_of({"unit_id": RED, "modification": "irradiated",
                    "product_code": "E0400V00"}) == f"{DIN}-E0400V00"
    assert unit_of({"unit_id": RED, "new_unit_id": f"{DIN}-E0400V00"}) == f"{DIN}-E0400V00"
    assert unit_of({"unit_id": "not a unit"}) is None
    assert unit_of({"din": DIN, "marker": "HIV"}) is None


async def test_the_bank_forms_make_steps_the_domain_records(
        services: Services, world: dict[str, tuple[Actor, str]]) -> None:
    """The form-to-step mapping against the real domain: what the forms send is what the
    event types take."""
    async def scan(text: str, name: str) -> str:
        return text

    async def submit(who: str, form: str, values: dict[str, str],
                     credentials: Credentials | None = None) -> Any:
        found = form_named(BANK, form)
        assert found is not None
        actor = world[who][0]
        step = await step_of(found, values, actor.site_id, scan, "Asia/Damascus")
        return await record_step(services, actor, step, credentials)

    tested = await submit("lab", "result", {"din": "=" + DIN + "00", "marker": "CMV",
                                            "result": "non_reactive", "test_kind": "screen",
                                            "kit_lot": "LOT-1"})
    assert tested.type == "TestResultRecorded"
    stored = await submit("processing", "store", {"unit_id": RED, "location": "fridge 2"})
    modified = await submit("processing", "modify", {
        "unit_id": RED, "modification": "irradiated", "product_code": "E0400V00",
        "system": "closed", "device_id": "IRR-1"})
    assert modified.unit_id == f"{DIN}-E0400V00"
    released = await submit("processing", "release", {"unit_id": f"{DIN}-E0400V00"},
                            Credentials(world["processing"][1]))
    assert released.signed_as == "release"
    shipped = await submit("processing", "ship", {
        "unit_id": f"{DIN}-E0400V00", "to_site_id": "H1", "shipment_id": "SHP-WB-9"})
    assert tested.position < stored.position < modified.position < released.position < \
        shipped.position
