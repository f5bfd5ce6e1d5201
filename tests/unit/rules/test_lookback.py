"""RULES §8, lookback: given a donor's donations, when a lookback starts without ``since``,
then its window is computed from the donor's last clear screen for the marker, it gets a
deadline, recipients are notified by the hospital that transfused, and it closes only with an
outcome its state supports (review: "a lookback takes any since; it has no computed window,
no deadline, no recipient notification and no closure")."""

from __future__ import annotations

from datetime import timedelta

from app.events.catalogue import Catalogue
from app.log.record import parse_time
from tests.support.scene import BEDSIDE, Scene, actor, body, din, scene

PROCESSING = actor("processing", "BB1")
H1 = actor("hospital", "H1")


def donor_with_years(s: Scene) -> tuple[str, list[str]]:
    """Three donations 200 days apart, each screened clear for HCV."""
    donor = s.new_donor()
    units = []
    for n in (1, 2, 3):
        units.append(s.collect(n, donor_id=donor))
        s.test_all(din(n))
        s.later(days=200)
    return donor, units


def test_lookback_window_from_twelve_months_before_the_last_clear_screen() -> None:
    s = scene()
    donor, units = donor_with_years(s)
    [started, *held] = s.do("LookbackStarted", {"lookback_id": "LB-W", "donor_id": donor,
                                                "marker": "HCV"}, PROCESSING)
    last_clear = s.unit(units[2]).collected_at
    assert parse_time(body(started)["since"]) == last_clear - timedelta(days=365)
    assert body(started)["dins"] == [din(2), din(3)]  # the first is older than the window
    assert {e.data.unit_id for e in held} == {units[1], units[2]}  # type: ignore[attr-defined]


def test_lookback_window_is_configurable_and_since_given_wins() -> None:
    s = Scene(Catalogue(lookback_window_days=100)).network()
    donor, _ = donor_with_years(s)
    [started, *_] = s.do("LookbackStarted", {"lookback_id": "LB-C", "donor_id": donor,
                                             "marker": "HCV"}, PROCESSING)
    assert body(started)["dins"] == [din(3)]
    [given, *_] = s.do("LookbackStarted", {"lookback_id": "LB-G", "donor_id": donor,
                                           "marker": "HCV", "since": "2020-01-01"}, PROCESSING)
    assert body(given)["dins"] == [din(1), din(2), din(3)]


def test_lookback_deadline_is_three_days_by_default() -> None:
    s = scene()
    s.collect()
    [started, *_] = s.do("LookbackStarted", {"lookback_id": "LB-D", "din": din(1),
                                             "marker": "HIV"}, PROCESSING)
    assert parse_time(body(started)["deadline"]) == started.occurred_at + timedelta(days=3)


def test_lookback_recipient_notified_by_the_transfusing_hospital_then_closed() -> None:
    s = scene()
    red = s.released_component()
    s.reserve(red, "PAT-LB")
    s.issue(red, "PAT-LB")
    s.do("TransfusionStarted", {"unit_id": red, "patient_id": "PAT-LB",
        "bedside_check": BEDSIDE}, H1)
    s.do("UnitTransfused", {"unit_id": red, "patient_id": "PAT-LB"}, H1)
    s.do("LookbackStarted", {"lookback_id": "LB-N", "din": red.split("-")[0], "marker": "HIV"},
         PROCESSING)
    close = {"lookback_id": "LB-N", "outcome": "recipients_notified"}
    assert s.refuse("LookbackClosed", close, PROCESSING).rule == "lookback-items-open"
    notify = {"lookback_id": "LB-N", "unit_id": red, "patient_id": "PAT-LB"}
    assert s.refuse("LookbackRecipientNotified", notify,
                    actor("hospital", "H2")).rule == "not-custodian"
    assert s.refuse("LookbackRecipientNotified", {**notify, "patient_id": "PAT-XX"},
                    H1).rule == "lookback-recipient-mismatch"
    s.do("LookbackRecipientNotified", notify, H1)
    assert s.refuse("LookbackRecipientNotified", notify,
                    H1).rule == "lookback-already-notified"
    s.do("LookbackClosed", close, PROCESSING)
    assert s.refuse("LookbackAcknowledged", {"lookback_id": "LB-N", "site_id": "H1",
                                             "unit_id": red}, H1).rule == "lookback-closed"


def test_lookback_closed_as_untraceable_needs_a_note() -> None:
    s = scene()
    s.collect()
    s.do("LookbackStarted", {"lookback_id": "LB-U", "din": din(1), "marker": "HIV"}, PROCESSING)
    close = {"lookback_id": "LB-U", "outcome": "recipients_not_traceable"}
    assert s.refuse("LookbackClosed", close, PROCESSING).field == "data.note"
    s.do("LookbackClosed", {**close, "note": "hospital records lost in the 2024 flood"},
         PROCESSING)


def test_lookback_closed_only_by_the_site_that_started_it_or_collected() -> None:
    """Security probe: any blood establishment's key could close another's lookback."""
    s = scene()
    s.collect()
    s.do("LookbackStarted", {"lookback_id": "LB-S", "din": din(1), "marker": "HIV"}, PROCESSING)
    close = {"lookback_id": "LB-S", "outcome": "donor_confirmed_negative"}
    for stranger in (actor("processing", "BB2"), actor("lab", "LAB2")):
        assert s.refuse("LookbackClosed", close, stranger).rule == "lookback-out-of-scope"
    s.do("LookbackClosed", close, PROCESSING)

