"""Donor visits: registration (sex, birth year), returning donors, the pre-donation screening,
deferral for low haemoglobin, reinstatement and collection at blood banks and mobile units.

Each donor is asked back for a procedure after the gap that follows the one they gave, never
before the catalogue's interval for their sex and within its annual caps. A few donors come
back too early or while deferred, a first-time donor's bag is now and then scanned before
the screening is entered, and rarely a donor who failed screening is bled: those collections
are sent anyway and must be refused, as in life."""

from __future__ import annotations

import heapq

from app.sim.eligibility import VOLUME_SPREAD
from app.sim.model import (
    APH_PLASMA,
    COLLECTION_TYPES,
    PLT,
    PRODUCTS,
    WB,
    Deferral,
    Donation,
    Donor,
)
from app.sim.network import Site
from app.sim.state import ADMIN, SimState


def collect(s: SimState) -> None:
    """The day's donor visits, spread over the collecting sites by their weight."""
    s.collected_today = []
    s.clock.phase(7)
    for donor, deferral_id in s.reinstate.pop(s.day, []):
        reinstate(s, donor, deferral_id)
    for site, count in _visits_by_site(s).items():
        for _ in range(count):
            donor = _next_donor(s, site)
            visit(s, site, donor)
        if s.rng.random() < s.rates.early_attempt_share * count:
            _early_attempt(s, site)


def _visits_by_site(s: SimState) -> dict[Site, int]:
    per_day = s.config.donations / s.config.days
    s.carry += per_day
    total = int(s.carry)
    s.carry -= total
    mobile = s.rates.mobile_share
    bank_weight = sum(b.weight for b in s.banks)
    mobiles = [c for c in s.collecting if c.kind == "mobile_unit"]
    weights = [
        c.weight * (1 - mobile) / bank_weight if c.kind == "blood_bank"
        else mobile / max(1, len(mobiles))
        for c in s.collecting
    ]
    counts: dict[Site, int] = {}
    for site in s.rng.choices(s.collecting, weights=weights, k=total):
        counts[site] = counts.get(site, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: kv[0].site_id))


def _next_donor(s: SimState, site: Site) -> Donor:
    """A returning donor due today at ``site``, else a newly registered one."""
    queue = s.due[site.site_id]
    while queue and queue[0][0] <= s.day:
        _, _, donor_id = heapq.heappop(queue)
        donor = s.donors[donor_id]
        if donor.next_visit > s.day or donor.deferred_at(s.clock.now):
            continue
        return donor
    return register(s, site)


def register(s: SimState, site: Site) -> Donor:
    """A new donor: sex as they give it (a few X, a few not recorded), birth year, and at a
    blood bank the procedure they come for."""
    abo, rhd = s.random_group()
    sexes = s.rates.sexes
    sex = s.rng.choices([x for x, _ in sexes], weights=[w for _, w in sexes])[0]
    donor_id = s.pseudonym("DNR")  # drawn even with the vault: every other id stays
    procedure = _procedure(s, site)
    birth_year = s.clock.now.year - s.rng.randint(18, 65)
    person = None
    if s.pseudonym_of is not None:
        person = s.people.next(sex, birth_year, site.governorate)
        donor_id = s.pseudonym_of(person["national_id"])
    donor = Donor(donor_id, abo, rhd, site.site_id, s.day, sex=sex)
    donor.usual = donor.next_code = procedure
    s.donors[donor.donor_id] = donor
    data: dict[str, object] = {"donor_id": donor.donor_id, "birth_year": birth_year}
    if sex is not None:
        data["sex"] = sex
    if s.rng.random() < 0.5:  # some donors bring a card with their group, a few a wrong one
        card = {"ABO": abo, "RHD": rhd}
        if s.rng.random() < s.rates.wrong_card_share:
            card["ABO"] = s.rng.choice([g for g in ("O", "A", "B", "AB") if g != abo])
        donor.known = card
        data.update(abo=card["ABO"], rhd="+" if card["RHD"] == "POS" else "-")
    step = s.emit("DonorRegistered", data, s.actor(site.site_id, "collector"))
    step.identity = person
    return donor


def _procedure(s: SimState, site: Site) -> str:
    """Whole blood, or at a blood bank now and then plasma or platelet apheresis."""
    if site.kind != "blood_bank":
        return WB
    r = s.rng.random()
    if r > s.rates.whole_blood_share + s.rates.apheresis_plasma_share:
        return PLT
    return APH_PLASMA if r > s.rates.whole_blood_share else WB


def visit(s: SimState, site: Site, donor: Donor) -> None:
    """A donor at the chair: screened, then bled for what they came to give, or deferred
    when their haemoglobin is below the limit for their sex."""
    hb = haemoglobin(s, donor)
    passed = hb >= s.donor_rules.hb_min(donor.sex)
    if passed and not donor.donations and s.rng.random() < s.rates.mistake_share:
        _collect(s, site, donor, donor.next_code, expect="donor-screening-required")
    screen(s, site, donor, hb)
    if not passed:
        if s.rng.random() < s.rates.rare_mistake_share:
            _collect(s, site, donor, donor.next_code, expect="donor-screening-failed")
        defer(s, donor, site, "low_haemoglobin", s.rates.low_hb_deferral_days)
        return
    donation = _collect(s, site, donor, donor.next_code)
    s.collected_today.append(donation)
    _ask_back(s, site, donor)


def haemoglobin(s: SimState, donor: Donor) -> int:
    """A pre-donation Hb (g/L) for the donor's sex (either, when X or not recorded)."""
    stats = {sex: (mean, sd) for sex, mean, sd in s.rates.haemoglobin_g_l}
    sex = donor.sex if donor.sex in stats else s.rng.choice(sorted(stats))
    mean, sd = stats[str(sex)]
    return max(60, min(220, round(s.rng.gauss(mean, sd))))


def screen(s: SimState, site: Site, donor: Donor, hb: int) -> None:
    """The pre-donation screening at the chair: it passes when Hb reaches the limit."""
    limit = s.donor_rules.hb_min(donor.sex)
    data: dict[str, object] = {"donor_id": donor.donor_id, "site_id": site.site_id,
                               "hb_g_l": hb, "pass": hb >= limit}
    if hb < limit:
        data["reason"] = f"haemoglobin {hb} g/L, below {limit} g/L"
    s.emit("DonorScreened", data, s.actor(site.site_id, "collector"),
           path=None if hb >= limit else "low haemoglobin: screening failed, donor deferred")


def _ask_back(s: SimState, site: Site, donor: Donor) -> None:
    """The donor's next visit: their usual procedure (at a blood bank, now and then the
    other one), after the gap that follows what they just gave."""
    if site.kind == "blood_bank" and s.identity_rng.random() < s.rates.recall_view_share:
        s.emit_aside("DonorIdentityViewed", {
            "donor_id": donor.donor_id, "site_id": site.site_id,
            "purpose": "recall appointment"}, s.actor(site.site_id, "collector"))
    gave = donor.next_code
    code = donor.usual
    if site.kind == "blood_bank" and s.rng.random() < s.rates.switch_share:
        code = APH_PLASMA if donor.usual == WB else WB
    low, high = s.rates.return_interval_days if gave == WB else s.rates.apheresis_return_days
    s.schedule(donor, s.day + s.rng.randint(low, high), code)


def _collect(s: SimState, site: Site, donor: Donor, code: str, expect: str | None = None
             ) -> Donation:
    assert site.fin is not None
    din = s.new_din(site.fin)
    product = PRODUCTS[code]
    unit_id = f"{din}-{code}"
    volume = product.volume_ml + s.rng.randint(-VOLUME_SPREAD, VOLUME_SPREAD)
    s.emit("DonationCollected", {
        "din": s.din_as_sent(din), "donor_id": donor.donor_id, "site_id": site.site_id,
        "collection_type": COLLECTION_TYPES[code], "product_code": code,
        "category": product.category, "volume_ml": volume,
    }, s.actor(site.site_id, "collector"), expect=expect, units=() if expect else (unit_id,))
    donation = Donation(din, donor.donor_id, site.site_id, site.supplier or site.site_id, s.day,
                        s.clock.now, donor_group=dict(donor.known),
                        collection_type=COLLECTION_TYPES[code], volume=volume)
    if expect is None:
        s.donations[din] = donation
        donation.units.append(unit_id)
        unit = s.add_unit(unit_id, din, code, site.site_id, donor, donor.group, s.clock.now)
        unit.volume = volume
        donor.donations.append((din, s.day))
    return donation


def _early_attempt(s: SimState, site: Site) -> None:
    """A donor who gave recently (or is deferred) tries again: the service must refuse. One
    who is not deferred passes the screening first: the interval is what stops them."""
    now = s.clock.now
    home = [d for d in s.donors.values() if d.home == site.site_id]
    deferred = [d for d in home if d.deferred_at(now)]
    # Surely early, whatever the hours: a whole day before the interval ends.
    recent = [d for d in home if d.donations and not d.deferred_at(now)
              and s.earliest_day(d, d.next_code, caps=False) - 1 > s.day]
    if deferred and s.rng.random() < 0.2:
        _collect(s, site, s.rng.choice(deferred), WB, expect="donor-deferred")
    elif recent:
        donor = s.rng.choice(recent)
        screen(s, site, donor, max(haemoglobin(s, donor), s.donor_rules.hb_min(donor.sex)))
        _collect(s, site, donor, donor.next_code, expect="donation-interval")


def defer(s: SimState, donor: Donor, site: Site, cause: str, days: int) -> None:
    """A deferral at the chair until ``days`` from today (its id is the event's); the donor
    is asked back after it ends."""
    until = s.midnight(s.day + days + 1)
    step = s.emit("DonorDeferred", {"donor_id": donor.donor_id, "cause": cause,
                                    "reason": "haemoglobin below the donation threshold",
                                    "until": until.date().isoformat()},
                  s.actor(site.site_id, "collector"))
    deferral_id = str(step.event_id)
    donor.deferrals[deferral_id] = Deferral(deferral_id, cause, until)
    s.schedule(donor, s.day + days + s.rng.randint(2, 30))


def reinstate(s: SimState, donor: Donor, deferral_id: str) -> None:
    """Confirmatory testing cleared a repeatedly reactive screen: the blood bank ends that
    deferral, naming it; the donor may give again once no other deferral stands."""
    del donor.deferrals[deferral_id]
    s.emit("DonorReinstated", {"donor_id": donor.donor_id, "deferral_id": deferral_id,
                               "reason": "confirmatory testing negative"},
           s.actor(s.bank_of(donor), "processing"), path="donor reinstated")
    if donor.indefinitely_deferred:
        return
    s.schedule(donor, s.day + s.rng.randint(7, 60))


def erasures(s: SimState) -> None:
    """At the end of the run, a few donors ask for their identity to be erased: their
    history stays in the log under the pseudonym (after every other step, so that a run
    with erasures takes the same decisions as one without)."""
    for donor_id in sorted(s.donors):
        if s.identity_rng.random() < s.rates.erasure_share:
            s.emit_aside("DonorIdentityShredded", {
                "donor_id": donor_id,
                "reason": "erasure requested by the donor (GDPR Art. 17)"},
                ADMIN, path="identity erased at the donor's request")
