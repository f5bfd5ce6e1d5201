"""A workbench form and the step it asks for: given these inputs, the event's type and
data, exactly as ``POST /v1/events`` takes them; the forms a role is offered."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import InvalidUnitId
from app.events.registry import REGISTRY, ROLE_EVENTS
from app.web.steps import Form, step_of
from app.web.workbench_forms import ALL_FORMS, BANK, HOSPITAL, LOOKBACK, form_named, offered

UNIT = "A999926123456-E0398V00"


async def scan(text: str, name: str) -> str:
    """The test's scanner: a unit id as given, anything else refused for the input."""
    if "-" not in text:
        raise InvalidUnitId("scan the product code too", field=f"data.{name}")
    return text.upper()


def _form(forms: tuple[Form, ...], name: str) -> Form:
    found = form_named(forms, name)
    assert found is not None
    return found


async def _data(forms: tuple[Form, ...], name: str, values: dict[str, str],
                site: str | None = "H-DAM-01") -> dict[str, Any]:
    step = await step_of(_form(forms, name), values, site, scan)
    return dict(step.data)


async def test_a_receipt_is_the_scanned_unit_at_the_persons_site() -> None:
    data = await _data(HOSPITAL, "receive", {"unit_id": " a999926123456-e0398v00 ",
                                             "shipment_id": "SHP-1", "temp_dc": "45",
                                             "accepted": "on"})
    assert data == {"unit_id": UNIT, "site_id": "H-DAM-01", "shipment_id": "SHP-1",
                    "accepted": True, "temp_dc": 45}
    refused = await _data(HOSPITAL, "receive", {"unit_id": UNIT, "shipment_id": "SHP-1"})
    assert refused["accepted"] is False and "temp_dc" not in refused


async def test_a_number_that_is_not_one_goes_to_the_domain_as_typed() -> None:
    data = await _data(HOSPITAL, "receive", {"unit_id": UNIT, "shipment_id": "S",
                                             "temp_dc": "4.5"})
    assert data["temp_dc"] == "4.5"  # the schema refuses it, naming data.temp_dc


async def test_an_emergency_issue_and_its_signature() -> None:
    form = _form(HOSPITAL, "issue")
    step = await step_of(form, {"unit_id": UNIT, "patient_id": "PAT-1", "emergency": "on",
                                "justification": "massive bleeding", "physician_id": "DR-7",
                                "event_id": "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11"},
                         "H-DAM-01", scan)
    assert step.type == "UnitIssued" and form.signed
    assert dict(step.data) == {"unit_id": UNIT, "patient_id": "PAT-1", "emergency": True,
                               "justification": "massive bleeding", "physician_id": "DR-7",
                               "anti_d_prophylaxis": False}
    assert step.event_id == "5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11"
    other = await step_of(form, {"unit_id": UNIT, "patient_id": "PAT-1",
                                 "event_id": "not a uuid"}, "H-DAM-01", scan)
    assert other.event_id is None and other.data["emergency"] is False


async def test_the_bedside_check_compares_the_scans_with_what_is_given() -> None:
    values = {"unit_id": UNIT, "patient_id": "PAT-1",
              "bedside_check.wristband_scanned": "PAT-1",
              "bedside_check.unit_scanned": UNIT.lower(),
              "bedside_check.second_checker_id": "NURSE-2"}
    data = await _data(HOSPITAL, "start", values)
    assert data["bedside_check"] == {"wristband_scanned": True, "unit_scanned": True,
                                     "second_checker_id": "NURSE-2"}
    wrong = await _data(HOSPITAL, "start", values | {
        "bedside_check.wristband_scanned": "PAT-2",
        "bedside_check.unit_scanned": "A999926123456"})
    assert wrong["bedside_check"] == {"wristband_scanned": False, "unit_scanned": False,
                                      "second_checker_id": "NURSE-2"}


async def test_a_scan_that_names_no_unit_is_refused_for_its_input() -> None:
    with pytest.raises(InvalidUnitId) as refused:
        await _data(HOSPITAL, "return", {"unit_id": "A999926123456"})
    assert refused.value.field == "data.unit_id"


async def test_a_split_leaves_out_the_rows_left_blank() -> None:
    data = await _data(BANK, "split", {
        "unit_id": "A999926123456-E0001V00", "system": "closed",
        "components.0.product_code": "E0398V00", "components.0.category": "red_cells",
        "components.0.volume_ml": "280", "components.1.product_code": "E2555V00",
        "components.1.category": "plasma", "components.1.volume_ml": "220",
        "components.2.product_code": "", "components.2.category": "",
        "components.2.volume_ml": ""}, site="BB-DAM-01")
    assert data == {"unit_id": "A999926123456-E0001V00", "system": "closed", "components": [
        {"product_code": "E0398V00", "category": "red_cells", "volume_ml": 280},
        {"product_code": "E2555V00", "category": "plasma", "volume_ml": 220}]}


async def test_a_pool_takes_one_scan_per_line() -> None:
    data = await _data(BANK, "pool", {
        "parent_unit_ids": "A999926123456-E3084V00\r\n\r\nA999926123457-E3084V00\n",
        "din": "=A99992690000100", "product_code": "E3084V00", "category": "platelets",
        "volume_ml": "300"}, site="BB-DAM-01")
    assert data["parent_unit_ids"] == ["A999926123456-E3084V00", "A999926123457-E3084V00"]
    assert data["din"] == "=A99992690000100"  # every DIN form is the domain's to read


async def test_screening_collection_and_results_name_the_persons_site() -> None:
    screened = await _data(BANK, "screen", {"donor_id": "DNR-1", "hb_g_l": "141",
                                            "pass": "true"}, site="BB-DAM-01")
    assert screened == {"donor_id": "DNR-1", "hb_g_l": 141, "pass": True,
                        "site_id": "BB-DAM-01"}
    result = await _data(BANK, "result", {"din": "A999926123456", "marker": "HIV",
                                          "result": "non_reactive", "test_kind": "screen"},
                         site="LAB-DAM-01")
    assert result["lab_site_id"] == "LAB-DAM-01"
    shipped = await _data(BANK, "ship", {"unit_id": UNIT, "to_site_id": "H-DAM-01",
                                         "shipment_id": "SHP-2"}, site="BB-DAM-01")
    assert shipped["from_site_id"] == "BB-DAM-01"


async def test_a_person_without_a_site_types_it() -> None:
    form = _form(BANK, "store")
    assert form.inputs(None)[0].name == "site_id"
    data = await _data(BANK, "store", {"site_id": "BB-X", "unit_id": UNIT, "location": "f"},
                       site=None)
    assert data["site_id"] == "BB-X"


async def test_a_time_typed_is_the_wall_clock_of_the_pages_zone() -> None:
    values = {"patient_id": "PAT-1", "sample_id": "S-1", "abo": "A", "rhd": "POS",
              "sample_collected_at": "2026-12-03T08:30"}
    step = await step_of(_form(HOSPITAL, "group"), values, "H-DAM-01", scan, "Asia/Damascus")
    assert step.data["sample_collected_at"] == "2026-12-03T05:30:00Z"
    utc = await _data(HOSPITAL, "group", values)
    assert utc["sample_collected_at"] == "2026-12-03T08:30:00Z"
    odd = await _data(HOSPITAL, "group", values | {"sample_collected_at": "yesterday"})
    assert odd["sample_collected_at"] == "yesterday"  # the schema refuses it, by field


def test_every_form_records_a_type_of_the_catalogue_with_its_fields() -> None:
    for form in ALL_FORMS:
        model = REGISTRY[form.event_type].model
        known = {f.alias or name for name, f in model.model_fields.items()}
        for item in form.inputs(None):
            assert item.name.split(".")[0] in known, (form.name, item.name)
        required = {f.alias or name for name, f in model.model_fields.items()
                    if f.is_required()}
        given = {i.name.split(".")[0] for i in form.inputs(None)}
        assert required <= given, (form.name, required - given)


def test_a_role_is_offered_only_the_forms_it_may_record() -> None:
    assert [f.name for f in offered(HOSPITAL, "hospital")] == [f.name for f in HOSPITAL]
    assert offered(HOSPITAL, "auditor") == ()
    assert {f.event_type for f in offered(BANK, "collector")} <= ROLE_EVENTS["collector"]
    assert "release" in [f.name for f in offered(BANK, "processing")]
    assert "release" not in [f.name for f in offered(BANK, "collector")]
    assert [f.name for f in offered(LOOKBACK, "hospital")] == ["acknowledge", "notify"]
    assert "close" in [f.name for f in offered(LOOKBACK, "processing")]


def test_the_signed_forms_are_the_signed_steps() -> None:
    assert {f.name for f in ALL_FORMS if f.signed} == {"issue", "release", "close"}
