"""The lab (RULES §3): each donation's screening (the mandatory markers, NAT on a share, a
bacterial culture of platelets, ABO/RhD), the repeats of an initially reactive screen, the
confirmatory test of a repeatedly reactive one, and the confirmatory typing of a discrepant
group. A pool's culture is recorded on the pool's own DIN.

Each result is recorded as it comes, and the sim predicts what the rules derive from it in
the same decision: test holds on the donation's live units, their lift once two repeats are
non-reactive, a deferral pending confirmation, a permanent one with its lookback, holds and
lifts for a discrepant group (``app.events.slices.testing``).
"""

from __future__ import annotations

from app.events import isbt
from app.sim import holds, lookback
from app.sim.model import CLEAR, PLATELETS, REPEATEDLY, Deferral, Donation, Step, Unit
from app.sim.state import SimState

MANDATORY = ("HIV", "HBV", "HCV", "SYPHILIS")
NAT = ("HIV", "HBV", "HCV")
GROUPS = ("ABO", "RHD")
REACTIVE = ("reactive", "indeterminate")
BLOCKING = ("initially_reactive", *REPEATEDLY)
ASSAYS = {
    "HIV": "HIV-1/2 Ag/Ab combo", "HBV": "HBsAg", "HCV": "anti-HCV", "SYPHILIS": "anti-TP",
    "BACTERIA": "aerobic and anaerobic culture", "ABO": "ABO forward and reverse grouping",
    "RHD": "anti-D, two reagents", "CMV": "anti-CMV IgG",
}
NAT_ASSAY = "HIV/HBV/HCV multiplex NAT"
CONFIRMATORY = {
    "HIV": "HIV-1/2 immunoblot", "HBV": "HBsAg neutralisation", "HCV": "HCV immunoblot",
    "SYPHILIS": "TPPA", "BACTERIA": "culture identification", "ABO": "reference grouping",
    "RHD": "reference RhD typing, weak D",
}
UNKNOWN_MARKER = "HBSAG"
"""An assay's name sent as the marker (the marker is HBV): not in the catalogue."""


def screen(s: SimState) -> None:
    """Today's donations are screened; the tests due today (repeats, confirmatory tests,
    group confirmations, cultures) are recorded."""
    s.clock.phase(17)
    _route_samples(s)
    for donation in s.collected_today:
        _screen(s, donation)
    for test, din, marker in s.tests_due.pop(s.day, []):
        donation = s.donations[din]
        if test == "repeat":
            _repeat(s, donation, marker)
        elif test == "confirmatory":
            _confirm(s, donation, marker)
        elif test == "group":
            record(s, donation, marker, s.donors[str(donation.donor_id)].truth(marker),
                   "confirmatory", path="discrepancy settled by confirmatory typing")
        else:
            culture(s, donation)


def _route_samples(s: SimState) -> None:
    """When a governorate's lab is down, its blood banks test the day's samples themselves
    and each mobile unit sends its samples to its blood bank's lab."""
    down = {lab.site_id for lab in s.network.of_kind("lab")
            if s.rng.random() < s.rates.lab_outage_share}
    sent: dict[str, list[Donation]] = {}
    for donation in s.collected_today:
        if _lab(s, donation) in down:
            donation.lab = donation.bank
            if donation.site != donation.bank:
                sent.setdefault(donation.site, []).append(donation)
    for site, donations in sent.items():
        s.emit("SamplesDispatched", {"dins": [d.din for d in donations],
                                     "lab_site_id": donations[0].bank},
               s.actor(site, "collector"), path="samples sent to the blood bank's lab "
                                                 "(governorate lab down)")


def _screen(s: SimState, donation: Donation) -> None:
    donor = s.donors[str(donation.donor_id)]
    factor = s.rates.repeat_reactive_factor if len(donor.donations) > 1 else 1.0
    rates = dict(s.rates.reactive)
    for marker in MANDATORY:
        result = "non_reactive"
        if s.rng.random() < rates.get(marker, 0.0) * factor:
            result = ("indeterminate" if s.rng.random() < s.rates.indeterminate_share
                      else "reactive")
        record(s, donation, marker, result)
    if s.rng.random() < s.rates.nat_share:
        for marker in NAT:
            record(s, donation, marker, "non_reactive", "nat")
    if any(u.live and u.category == PLATELETS and not u.pool
           and "pathogen_reduced" not in u.attributes for u in _units(s, donation)):
        culture(s, donation)  # pathogen-reduced platelets need no bacterial screen
    for marker in GROUPS:
        value = donor.truth(marker)
        if donation.donor_group.get(marker) == value and s.rng.random() < (
                s.rates.abo_mistype_share):
            value = _mistyped(s, marker, value)
        record(s, donation, marker, value)
    if s.rng.random() < s.rates.cmv_tested_share:
        _cmv(s, donation)
    if s.rng.random() < s.rates.mistake_share:
        s.emit("TestResultRecorded", {**_data(s, donation, UNKNOWN_MARKER, "non_reactive",
                                              "screen"), "assay": "HBsAg"},
               s.actor(_lab(s, donation), "lab"), expect="unknown-marker")
    if s.rng.random() < s.rates.mistake_share:
        # A smudged label: the flags read back carry another DIN's check value.
        carried = int(isbt.barcode(donation.din)[-2:])
        misread = isbt.barcode(donation.din, 60 + (carried - 60 + s.rng.randint(1, 36)) % 37)
        s.emit("TestResultRecorded", {**_data(s, donation, "HIV", "non_reactive", "screen"),
                                      "din": misread},
               s.actor(_lab(s, donation), "lab"), expect="din-check-character")


def _cmv(s: SimState, donation: Donation) -> None:
    """A CMV screen: informational, never a hold; a negative one makes the donation's live
    units CMV-negative (what some patients require)."""
    negative = s.rng.random() < s.rates.cmv_negative_share
    s.emit("TestResultRecorded",
           _data(s, donation, "CMV", "non_reactive" if negative else "reactive", "screen"),
           s.actor(_lab(s, donation), "lab"), path="CMV-negative donation" if negative else None)
    if negative:
        for unit_id in donation.units:
            unit = s.units[unit_id]
            if unit.live and "cmv_negative" not in unit.attributes:
                unit.attributes = tuple(sorted({*unit.attributes, "cmv_negative"}))


def culture(s: SimState, donation: Donation) -> None:
    """The platelets' bacterial screen, on a donation or on a pool's own DIN."""
    reactive = s.rng.random() < s.rates.bacteria_reactive
    record(s, donation, "BACTERIA", "reactive" if reactive else "non_reactive",
           path="bacterial screen of a pool" if donation.donor_id is None
           else "bacterial screen of platelets")


def _repeat(s: SimState, donation: Donation, marker: str) -> None:
    """The duplicate repeat: both non-reactive resolve the marker, else it is repeatedly
    reactive and the units are discarded."""
    if s.rng.random() < s.rates.repeatedly_reactive_share:
        pair = s.rng.choice((("reactive", "reactive"), ("non_reactive", "reactive")))
    else:
        pair = ("non_reactive", "non_reactive")
        if s.rng.random() < s.rates.rare_mistake_share:
            _lift_too_soon(s, donation, marker)
    for result in pair:
        record(s, donation, marker, result, "repeat")


def _lift_too_soon(s: SimState, donation: Donation, marker: str) -> None:
    """Processing lifts a test hold before the repeats are in: refused, still unresolved."""
    for unit in _units(s, donation):
        hold = next((h for h in unit.holds if h.key == ("test", marker, donation.din)), None)
        if hold is not None and unit.site == donation.bank and unit.status == "stock":
            holds.lift_by_hand(s, unit, hold, "processing", "repeats expected clear",
                               expect="hold-unresolved")
            return


def _confirm(s: SimState, donation: Donation, marker: str) -> None:
    negative = marker == "BACTERIA" or s.rng.random() < s.rates.confirmed_negative_share
    record(s, donation, marker, "negative" if negative else "positive", "confirmatory",
           sample=f"S-{donation.din}-C")


def record(s: SimState, donation: Donation, marker: str, result: str, kind: str = "screen",
           *, sample: str | None = None, path: str | None = None) -> None:
    """Record one result and mirror what the rules derive from it."""
    step = s.emit("TestResultRecorded",
                  _data(s, donation, marker, result, kind, sample),
                  s.actor(_lab(s, donation), "lab"), path=path)
    if marker in GROUPS:
        _typed(s, step, donation, marker, result, kind)
        return
    before = donation.markers.get(marker, "untested")
    now = donation.markers[marker] = _status(donation, marker, kind, result)
    if before == now:
        return
    units = s.lineage(donation.units)
    if now in BLOCKING and before not in BLOCKING:
        step.path = f"{marker} {now.replace('_', ' ')}"
        holds.place(step, units, "test", marker, donation.din)
        s.order_test(1, "repeat", donation.din, marker)
    elif before in BLOCKING and now in CLEAR:
        step.path = f"{marker} resolved on repeat"
        holds.lift(step, units, "test", marker, donation.din)
    if now in REPEATEDLY and before not in REPEATEDLY:
        holds.doom(s, units, "reactive_test")
    if donation.donor_id is not None:
        _donor(s, step, donation, marker, before, now)


def _donor(s: SimState, step: Step, donation: Donation, marker: str, before: str,
           now: str) -> None:
    """A deferral pending confirmation; a permanent one and a lookback on a confirmed
    positive; reinstatement later on a confirmed negative."""
    donor = s.donors[str(donation.donor_id)]
    active = [x for x in donor.deferrals.values()
              if x.cause == "infectious_marker" and x.marker == marker
              and x.active_at(step.at)]
    if now in REPEATEDLY and before not in REPEATEDLY and not active:
        step.path = f"{marker} repeatedly reactive: donor deferred pending confirmation"
        deferral_id = step.derive("DonorDeferred")
        donor.deferrals[deferral_id] = Deferral(deferral_id, "infectious_marker", None,
                                                marker, donation.din, pending=True)
        s.order_test(s.rng.randint(3, 10), "confirmatory", donation.din, marker)
    if now == "confirmed_positive":
        step.path = f"{marker} confirmed positive: permanent deferral and lookback"
        deferral_id = step.derive("DonorDeferred")
        donor.deferrals[deferral_id] = Deferral(deferral_id, "infectious_marker", None,
                                                marker, donation.din)
        lookback_id = f"LB-{donation.din}-{marker}"
        if all(lb.lookback_id != lookback_id for lb in s.lookbacks):
            step.derive("LookbackStarted")
            lookback.start(s, step, lookback_id, marker, donor)
    elif now == "confirmed_negative":
        step.path = f"{marker} confirmed negative"
        if s.rng.random() < s.rates.reinstate_share:
            for x in donor.deferrals.values():
                if x.pending and (x.marker, x.din) == (marker, donation.din):
                    s.reinstate.setdefault(s.day + s.rng.randint(7, 30), []).append(
                        (donor, x.deferral_id))


def _status(donation: Donation, marker: str, kind: str, result: str) -> str:
    """A marker's status after one more result (``app.events.results.marker_status``)."""
    now = donation.markers.get(marker, "untested")
    if now == "confirmed_positive":
        return now
    if kind == "confirmatory":
        return {"positive": "confirmed_positive",
                "negative": "confirmed_negative"}.get(result, "repeatedly_reactive")
    if now in REPEATEDLY:
        return now
    if result in REACTIVE:
        if kind == "repeat":
            return "repeatedly_reactive"
        donation.clear_repeats[marker] = 0
        return "initially_reactive"
    if kind == "repeat" and now in ("initially_reactive", "resolved"):
        cleared = donation.clear_repeats[marker] = donation.clear_repeats.get(marker, 0) + 1
        return "resolved" if cleared >= 2 else now
    if now in ("initially_reactive", "resolved") or kind == "repeat":
        return now
    return "negative"


def _typed(s: SimState, step: Step, donation: Donation, marker: str, value: str,
           kind: str) -> None:
    """A group result: discrepant with an earlier one (or the donor's known group) holds
    the units until a confirmatory typing settles it (``app.events.results.typing``)."""
    before = _typing(donation, marker)
    donation.typed.setdefault(marker, []).append((kind, value))
    now = _typing(donation, marker)
    units = s.lineage(donation.units)
    if now[1] and not before[1]:
        step.path = f"{marker} discrepancy: units held"
        holds.place(step, units, "abo_discrepancy", marker, donation.din)
        donation.open_groups.add(marker)
        s.order_test(1, "group", donation.din, marker)
    elif before[1] and not now[1]:
        holds.lift(step, units, "abo_discrepancy", marker, donation.din)
        donation.open_groups.discard(marker)
    donor = s.donors[str(donation.donor_id)]
    if now[0] is not None and not now[1] and (kind == "confirmatory"
                                              or marker not in donor.known):
        donor.known[marker] = now[0]


def _typing(donation: Donation, marker: str) -> tuple[str | None, bool]:
    """(the group as typed, whether it is discrepant)."""
    results = donation.typed.get(marker, [])
    confirms = [i for i, (kind, _) in enumerate(results) if kind == "confirmatory"]
    if confirms:
        standing = results[confirms[-1]][1]
        return standing, any(v != standing for _, v in results[confirms[-1] + 1:])
    values = {v for _, v in results}
    if values and marker in donation.donor_group:
        values.add(donation.donor_group[marker])
    if len(values) > 1:
        return None, True
    return (values.pop() if values else None), False


def _mistyped(s: SimState, marker: str, value: str) -> str:
    if marker == "RHD":
        return "NEG" if value == "POS" else "POS"
    return s.rng.choice([g for g in ("O", "A", "B", "AB") if g != value])


def _data(s: SimState, donation: Donation, marker: str, result: str, kind: str,
          sample: str | None = None) -> dict[str, object]:
    assay = CONFIRMATORY.get(marker) if kind == "confirmatory" else (
        NAT_ASSAY if kind == "nat" else ASSAYS.get(marker))
    now = s.clock.now
    return {"din": s.din_as_sent(donation.din), "marker": marker, "result": result,
            "lab_site_id": _lab(s, donation), "test_kind": kind,
            "sample_id": sample or f"S-{donation.din}", "assay": assay or marker,
            "kit_lot": f"LOT-{marker[:4]}-{now.year % 100:02d}{now.month:02d}"}


def _lab(s: SimState, donation: Donation) -> str:
    """The lab that tests the donation: its governorate's, unless the samples went
    elsewhere."""
    return donation.lab or s.network.lab_for(s.sites[donation.bank].governorate).site_id


def _units(s: SimState, donation: Donation) -> list[Unit]:
    return s.lineage(donation.units)
