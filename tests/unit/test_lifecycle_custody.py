"""Storage, temperature, and custody: one custodian, shipped by it, received by the destination."""

from __future__ import annotations

from app.api.problems import http_status
from app.errors import (
    FinalFate,
    NotCustodian,
    NotDestination,
    ShipmentMismatch,
    ShipmentToSelf,
    SiteNotFound,
    SiteScopeViolation,
    StorageSiteMismatch,
    UnitInTransit,
    UnitNotInTransit,
    UnitReservedError,
)
from tests.support.scene import actor, body, scene

BB1 = actor("inventory", "BB1")
H1 = actor("hospital", "H1")


def test_storage_records_site_and_location_at_the_custodian() -> None:
    s = scene()
    unit = s.collect()
    [event] = s.do("UnitStored", {"unit_id": unit, "site_id": "BB1", "location": "fridge 3"},
                   BB1)
    assert ("site", "BB1") in event.refs
    assert s.unit(unit).location == "fridge 3"
    err = s.refuse("UnitStored", {"unit_id": unit, "site_id": "BB2", "location": "x"},
                   actor("admin", None))
    assert isinstance(err, StorageSiteMismatch)


def test_a_non_custodian_cannot_act_on_a_unit() -> None:
    s = scene()
    unit = s.collect()
    for type_, data in (
        ("UnitStored", {"unit_id": unit, "site_id": "BB2", "location": "x"}),
        ("UnitQuarantined", {"unit_id": unit, "reason": "x"}),
        ("UnitDiscarded", {"unit_id": unit, "reason": "damaged", "note": "bag torn"}),
        ("TemperatureExcursionRecorded", {"unit_id": unit, "min_temp_dc": 30,
                                          "max_temp_dc": 90, "minutes": 30}),
    ):
        err = s.refuse(type_, data, actor("inventory", "BB2"))
        assert isinstance(err, NotCustodian | SiteScopeViolation), type_
        assert http_status(err) == 403


def test_an_excursion_inside_the_range_changes_nothing() -> None:
    s = scene()
    unit = s.collect()
    events = s.do("TemperatureExcursionRecorded", {"unit_id": unit, "min_temp_dc": 25,
                                                   "max_temp_dc": 58, "minutes": 20}, BB1)
    assert [e.type for e in events] == ["TemperatureExcursionRecorded"]
    assert not s.unit(unit).quarantined


def test_an_excursion_outside_the_category_range_quarantines() -> None:
    s = scene()
    red, plasma = s.split(s.collect())
    events = s.do("TemperatureExcursionRecorded", {"unit_id": red, "min_temp_dc": 30,
                                                   "max_temp_dc": 61, "minutes": 45}, BB1)
    assert [e.type for e in events] == ["TemperatureExcursionRecorded", "UnitQuarantined"]
    assert body(events[1])["cause_event_id"] == str(events[0].event_id)
    assert s.unit(red).quarantined and not s.unit(plasma).quarantined
    # Plasma is kept at -18 °C or colder: -15 °C is out of range.
    events = s.do("TemperatureExcursionRecorded", {"unit_id": plasma, "min_temp_dc": -300,
                                                   "max_temp_dc": -150, "minutes": 10}, BB1)
    assert events[-1].type == "UnitQuarantined"


def test_an_excursion_needs_ordered_readings() -> None:
    s = scene()
    unit = s.collect()
    err = s.refuse("TemperatureExcursionRecorded", {"unit_id": unit, "min_temp_dc": 50,
                                                    "max_temp_dc": 40, "minutes": 5}, BB1)
    assert http_status(err) == 422


def test_ship_and_receive_hand_custody_over() -> None:
    s = scene()
    unit = s.collect()
    # Not released: it may travel only to another blood bank (a quarantine transfer).
    err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB1", "to_site_id": "H1",
                                   "shipment_id": "S-0"}, BB1)
    assert err.rule == "shipment-not-allowed"
    [shipped] = s.do("UnitShipped", {"unit_id": unit, "from_site_id": "BB1",
                                     "to_site_id": "BB2", "shipment_id": "S-1"}, BB1)
    assert {("site", "BB1"), ("site", "BB2")} <= shipped.refs
    state = s.unit(unit)
    assert (state.custodian_site_id, state.in_transit_to, state.status) == (
        "BB1", "BB2", "in_transit")
    [received] = s.receive(unit, "S-1", "BB2")
    assert received.type == "UnitReceived"
    state = s.unit(unit)
    assert (state.custodian_site_id, state.in_transit_to, state.status) == (
        "BB2", None, "unreleased")


def test_a_unit_in_transit_accepts_nothing_but_its_receipt() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    shipment = s.ship(unit, "H1")
    for type_, data, by in (
        ("UnitStored", {"unit_id": unit, "site_id": "BB1", "location": "x"}, BB1),
        ("UnitShipped", {"unit_id": unit, "from_site_id": "BB1", "to_site_id": "H2",
                         "shipment_id": "S-9"}, BB1),
        ("UnitDiscarded", {"unit_id": unit, "reason": "damaged", "note": "bag torn"}, BB1),
        ("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1", "emergency": True,
                        "justification": "bleeding", "physician_id": "PHY-1"},
         actor("admin", None)),
    ):
        err = s.refuse(type_, data, by)
        assert isinstance(err, UnitInTransit), type_
    s.receive(unit, shipment)


def test_a_unit_in_transit_cannot_be_issued_even_by_its_destination() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    s.ship(unit, "H1")
    err = s.refuse("UnitIssued", {"unit_id": unit, "patient_id": "PAT-1", "emergency": True,
                                  "justification": "bleeding", "physician_id": "PHY-1"}, H1)
    assert isinstance(err, UnitInTransit)


def test_only_the_destination_receives_and_names_the_shipment() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    shipment = s.ship(unit, "H1")
    err = s.refuse("UnitReceived", {"unit_id": unit, "site_id": "H2", "shipment_id": shipment,
                                    "accepted": True}, actor("hospital", "H2"))
    assert isinstance(err, NotDestination)
    err = s.refuse("UnitReceived", {"unit_id": unit, "site_id": "H1", "shipment_id": "S-X",
                                    "accepted": True}, H1)
    assert isinstance(err, ShipmentMismatch)
    err = s.refuse("UnitReceived", {"unit_id": unit, "site_id": "H1", "shipment_id": shipment,
                                    "accepted": True}, actor("hospital", "H2"))
    assert isinstance(err, SiteScopeViolation)
    s.receive(unit, shipment)
    assert isinstance(s.refuse("UnitReceived", {"unit_id": unit, "site_id": "H1",
                                                "shipment_id": shipment, "accepted": True}, H1),
                      UnitNotInTransit)


def test_shipping_is_by_the_custodian_to_another_registered_site() -> None:
    s = scene()
    unit = s.collect()
    err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB2", "to_site_id": "H1",
                                   "shipment_id": "S"}, actor("inventory", "BB2"))
    assert isinstance(err, NotCustodian)
    err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB1", "to_site_id": "BB1",
                                   "shipment_id": "S"}, BB1)
    assert isinstance(err, ShipmentToSelf)
    err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB1", "to_site_id": "H9",
                                   "shipment_id": "S"}, BB1)
    assert isinstance(err, SiteNotFound)
    for kind_cannot_receive in ("LAB1", "MU1", "FR1"):
        err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB1",
                                       "to_site_id": kind_cannot_receive, "shipment_id": "S"},
                       BB1)
        assert err.rule == "site-kind-not-allowed", kind_cannot_receive


def test_a_refused_receipt_hands_custody_over_and_quarantines() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    events = s.receive(unit, s.ship(unit, "H1"), accepted=False)
    assert [e.type for e in events] == ["UnitReceived", "UnitQuarantined"]
    state = s.unit(unit)
    assert (state.custodian_site_id, state.quarantined) == ("H1", True)
    s.do("UnitDiscarded", {"unit_id": unit, "reason": "temperature"}, H1)


def test_a_warm_arrival_quarantines() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    shipment = s.ship(unit, "H1")
    events = s.do("UnitReceived", {"unit_id": unit, "site_id": "H1", "shipment_id": shipment,
                                   "accepted": True, "temp_dc": 120}, H1)
    assert events[-1].type == "UnitQuarantined"


def test_a_held_unit_goes_only_to_a_blood_bank() -> None:
    s = scene()
    unit = s.released_component(at_site="BB1")
    s.do("UnitQuarantined", {"unit_id": unit, "reason": "label check"}, BB1)
    err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "BB1", "to_site_id": "H1",
                                   "shipment_id": "S-H"}, BB1)
    assert err.rule == "shipment-not-allowed"
    s.receive(unit, s.ship(unit, "BB2"), "BB2")
    assert s.unit(unit).custodian_site_id == "BB2" and s.unit(unit).quarantined


def test_a_reserved_unit_is_not_shipped() -> None:
    s = scene()
    unit = s.released_component()
    s.reserve(unit)
    err = s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "H1", "to_site_id": "H2",
                                   "shipment_id": "S"}, H1)
    assert isinstance(err, UnitReservedError)


def test_a_unit_goes_on_to_a_second_hospital() -> None:
    s = scene()
    unit = s.released_component()
    s.receive(unit, s.ship(unit, "H2", frm="H1"), "H2")
    assert s.unit(unit).custodian_site_id == "H2"


def test_exactly_one_custodian_after_each_step() -> None:
    s = scene()
    unit = s.released_component()
    s.do("UnitDiscarded", {"unit_id": unit, "reason": "damaged", "note": "bag torn"}, H1)
    assert isinstance(s.refuse("UnitShipped", {"unit_id": unit, "from_site_id": "H1",
                                               "to_site_id": "H2", "shipment_id": "S"}, H1),
                      FinalFate)
    assert s.unit(unit).custodian_site_id == "H1"
