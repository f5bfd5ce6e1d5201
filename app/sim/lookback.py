"""Lookback and post-donation information (RULES §8).

A lookback starts from a confirmed positive (derived by the rules) or from information a
donor gives after donating (asked for by the blood bank, its window computed by the rules).
Every site that held or transfused a unit acknowledges it the same evening and the units
still in stock are recalled; the next day each hospital notifies the recipients it
transfused (a few cannot be traced); the day after, the blood bank closes the lookback.

Post-donation information holds the live units of the donor's donations since the date it
names. The next morning the blood bank assesses it: no risk, and each hold is lifted at the
bank (a hospital sends its unit back first: only the blood bank lifts such a hold); a risk,
and the units are recalled and the donor deferred, with a lookback when it names an
infection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.events.messages import Actor
from app.sim import distribution, holds
from app.sim.model import Deferral, Donor, Step, Unit
from app.sim.state import SimState

WINDOW = timedelta(days=365)
"""The catalogue's lookback window before the donor's last non-reactive screen."""
NO_RISK = (
    "a cold without fever two days after donating",
    "a mild rash the day after donating, gone by the evening",
    "took one paracetamol tablet the evening before donating",
)
RISK = (
    ("fever and diarrhoea three days after donating", 28),
    ("a tattoo two months before donating, not declared at the interview", 120),
    ("travelled to a malaria area in the month before donating", 365),
)
INFECTION = (
    ("diagnosed with hepatitis B at a clinic after donating", "HBV"),
    ("a sexual partner was diagnosed with HIV", "HIV"),
    ("diagnosed with hepatitis C after donating", "HCV"),
)


@dataclass(slots=True)
class Lookback:
    """What a lookback found: each unit with the sites it was with, and the recipients of
    the transfused ones (hospital, patient); ``closer`` is who closes it."""

    lookback_id: str
    closer: Actor
    day: int
    sites: dict[str, tuple[str, ...]]
    recipients: dict[str, tuple[str, str]]
    notified: bool = False
    untraced: int = 0


@dataclass(slots=True)
class InformationCase:
    """Information a donor gave: the units it holds, and (when it is a risk) how many days
    of deferral it calls for (0: permanent), and the infection it names, if any."""

    donor: Donor
    day: int
    risk_days: int | None
    marker: str | None
    units: list[Unit] = field(default_factory=list)


def start(s: SimState, step: Step, lookback_id: str, marker: str, donor: Donor,
          since: datetime | None = None) -> Lookback:
    """Mirror the rules' lookback: the donor's donations in the window (computed when not
    given), every unit made from them, the live ones held and then recalled."""
    if since is None:
        since = window_since(s, donor, marker)
    dins = [din for din, _ in donor.donations if since is None or s.donations[din].at >= since]
    units = s.lineage([u for din in dins for u in s.donations[din].units])
    found = Lookback(
        lookback_id, _starter(s, donor), s.day,
        {u.unit_id: tuple(x for x in (u.site, u.in_transit_to) if x) for u in units},
        {u.unit_id: (u.site, str(u.patient)) for u in units if u.fate == "transfused"})
    s.lookbacks.append(found)
    holds.place(step, units, "lookback")
    holds.doom(s, units, "recalled")
    return found


def _starter(s: SimState, donor: Donor) -> Actor:
    """Who asks for a donor's lookback, and closes one: the processing staff of a blood bank
    that collected one of the donations, else the lab that tests them (a mobile unit has no
    processing, and the bank it sends its collections to did not collect them)."""
    sites = [s.donations[din].site for din, _ in donor.donations]
    bank = next((x for x in sites if s.sites[x].kind == "blood_bank"), None)
    if bank is not None:
        return s.actor(bank, "processing")
    return s.actor(s.network.lab_for(s.sites[sites[-1]].governorate).site_id, "lab")


def window_since(s: SimState, donor: Donor, marker: str) -> datetime | None:
    """From 12 months before the donor's last donation screened clear for ``marker``."""
    clear = [s.donations[din].at for din, _ in donor.donations
             if s.donations[din].clear(marker)]
    return max(clear) - WINDOW if clear else None


def follow_lookbacks(s: SimState) -> None:
    """Acknowledge and recall the day a lookback starts; notify recipients the next day;
    close the day after."""
    s.clock.phase(21)
    for lb in list(s.lookbacks):
        if lb.day == s.day:
            _acknowledge(s, lb)
        elif not lb.notified:
            _notify(s, lb)
        else:
            _close(s, lb)
    holds.discard_doomed(s)


def _acknowledge(s: SimState, lb: Lookback) -> None:
    for unit_id, sites in lb.sites.items():
        unit = s.units[unit_id]
        if unit.fate in (None, "transfused", "fractionated") and sites:
            s.emit("LookbackAcknowledged", {"lookback_id": lb.lookback_id,
                                            "site_id": sites[0], "unit_id": unit_id},
                   s.custodian(sites[0]))


def _notify(s: SimState, lb: Lookback) -> None:
    """Each hospital that transfused a unit of the lookback notifies its recipient."""
    for unit_id, (hospital, patient) in lb.recipients.items():
        if s.rng.random() < s.rates.untraceable_share:
            lb.untraced += 1
            continue
        s.emit("LookbackRecipientNotified", {"lookback_id": lb.lookback_id,
                                             "unit_id": unit_id, "patient_id": patient},
               s.actor(hospital, "hospital"), path="lookback: recipient notified")
    lb.notified = True


def _close(s: SimState, lb: Lookback) -> None:
    data: dict[str, object] = {"lookback_id": lb.lookback_id,
                               "outcome": "recipients_notified"}
    if lb.untraced:
        data |= {"outcome": "recipients_not_traceable",
                 "note": "a recipient moved away and left no contact details"}
    s.emit("LookbackClosed", data, lb.closer,
           path=f"lookback closed: {data['outcome']}")
    s.lookbacks.remove(lb)


def receive_information(s: SimState) -> None:
    """Yesterday's information is assessed; a few donors who gave in the last two weeks
    call back with something new."""
    s.clock.phase(8.5)
    for case in list(s.information):
        _assess(s, case)
    recent = [d for d in s.donors.values() if d.donations and not d.under_information
              and 1 <= s.day - d.donations[-1][1] <= 14]
    wanted = s.poisson(s.rates.information_rate * s.config.donations / s.config.days)
    for donor in s.rng.sample(recent, min(wanted, len(recent))):
        _information(s, donor)


def _information(s: SimState, donor: Donor) -> None:
    since = s.midnight(donor.donations[-1][1])
    risk_days: int | None = None
    marker: str | None = None
    if s.rng.random() >= s.rates.information_risk_share:
        text = s.rng.choice(NO_RISK)
    elif s.rng.random() < s.rates.information_lookback_share:
        (text, marker), risk_days = s.rng.choice(INFECTION), 0
    else:
        text, risk_days = s.rng.choice(RISK)
    step = s.emit("PostDonationInformationReceived",
                  {"donor_id": donor.donor_id, "information": text,
                   "since": s.when(donor.donations[-1][1])},
                  s.actor(donor.home, "collector"), path="post-donation information")
    dins = [din for din, _ in donor.donations if s.donations[din].at >= since]
    units = s.lineage([u for din in dins for u in s.donations[din].units])
    held = holds.place(step, units, "post_donation_information")
    s.information.append(InformationCase(donor, s.day, risk_days, marker, held))
    donor.under_information = True


def _assess(s: SimState, case: InformationCase) -> None:
    """A risk: recall. No risk: each hold is lifted at the bank, once the unit is there."""
    if case.risk_days is not None:
        _recall(s, case, case.risk_days)
        case.risk_days = None
    pending = []
    for unit in case.units:
        hold = unit.hold_of("post_donation_information")
        if not unit.live or hold is None or unit.unit_id in s.doomed:
            continue
        if unit.status == "issued":
            holds.doom(s, [unit], "recalled")
            continue
        if unit.status == "stock" and s.sites[unit.site].kind == "blood_bank":
            holds.lift_by_hand(s, unit, hold, "processing", "post-donation information "
                               "assessed: no risk to recipients",
                               path="post-donation information: hold lifted")
            continue
        if unit.status == "stock" and s.sites[unit.site].kind == "hospital":
            if s.rng.random() < s.rates.rare_mistake_share:
                holds.lift_by_hand(s, unit, hold, "hospital", "told by phone it is fine",
                                   expect="hold-lift-not-allowed")
            bank = s.sites[unit.site].supplier or s.banks[0].site_id
            distribution.ship(s, unit, bank, s.serial(f"QTN-{unit.site}"))
        pending.append(unit)
    case.units = pending
    if not pending:
        s.information.remove(case)
        case.donor.under_information = False


def _recall(s: SimState, case: InformationCase, days: int) -> None:
    """A lookback when the information names an infection; the units recalled; the donor
    deferred (for ``days``, or for good)."""
    donor = case.donor
    bank = s.bank_of(donor)
    if case.marker is not None:
        step = s.emit("LookbackStarted", {"lookback_id": s.serial("LB"),
                                          "donor_id": donor.donor_id, "marker": case.marker},
                      _starter(s, donor), path="lookback from post-donation information")
        start(s, step, str(step.data["lookback_id"]), case.marker, donor)
    holds.doom(s, case.units, "recalled")
    case.units = []
    data: dict[str, object] = {"donor_id": donor.donor_id, "cause": "post_donation_information",
                               "reason": "post-donation information: a risk to recipients"}
    until = None
    if days:
        until = s.midnight(s.day + days + 1)
        data["until"] = until.date().isoformat()
    step = s.emit("DonorDeferred", data, s.actor(bank, "processing"),
                  path="post-donation information: units recalled, donor deferred")
    deferral_id = str(step.event_id)
    donor.deferrals[deferral_id] = Deferral(deferral_id, "post_donation_information", until)
    if until is not None:
        s.schedule(donor, s.day + days + s.rng.randint(2, 30))
