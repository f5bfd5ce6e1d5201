"""Donor visits: registration, returning donors, pre-donation deferral, reinstatement and
collection at blood banks and mobile units. A few donors come back too early or while
deferred: those collections are sent anyway and must be refused, as in life."""

from __future__ import annotations

import heapq

from app.sim.model import APH_PLASMA, PLT, PRODUCTS, WB, Deferral, Donation, Donor
from app.sim.network import Site
from app.sim.state import SimState

COLLECTION_TYPES = {WB: "whole_blood", APH_PLASMA: "apheresis_plasma", PLT: "apheresis_platelets"}
LOW_HB_SHARE = 0.01
LOW_HB_DAYS = 90


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
    abo, rhd = s.random_group()
    donor = Donor(s.pseudonym("DNR"), abo, rhd, site.site_id, s.day)
    s.donors[donor.donor_id] = donor
    data: dict[str, object] = {"donor_id": donor.donor_id}
    if s.rng.random() < 0.5:  # some donors bring a card with their group, a few a wrong one
        card = {"ABO": abo, "RHD": rhd}
        if s.rng.random() < s.rates.wrong_card_share:
            card["ABO"] = s.rng.choice([g for g in ("O", "A", "B", "AB") if g != abo])
        donor.known = card
        data.update(abo=card["ABO"], rhd="+" if card["RHD"] == "POS" else "-")
    s.emit("DonorRegistered", data, s.actor(site.site_id, "collector"))
    return donor


def visit(s: SimState, site: Site, donor: Donor) -> None:
    """A donor at the chair: screened, then bled (or deferred for low haemoglobin)."""
    if s.rng.random() < LOW_HB_SHARE:
        defer(s, donor, site, "low_haemoglobin", LOW_HB_DAYS)
        return
    code = WB
    if site.kind == "blood_bank":
        r = s.rng.random()
        if r > s.rates.whole_blood_share + s.rates.apheresis_plasma_share:
            code = PLT
        elif r > s.rates.whole_blood_share:
            code = APH_PLASMA
    donation = _collect(s, site, donor, code)
    s.collected_today.append(donation)
    low, high = s.rates.return_interval_days
    s.schedule(donor, s.day + s.rng.randint(max(low, s.rates.min_interval_days), high))


def _collect(s: SimState, site: Site, donor: Donor, code: str, expect: str | None = None
             ) -> Donation:
    assert site.fin is not None
    din = s.new_din(site.fin)
    product = PRODUCTS[code]
    unit_id = f"{din}-{code}"
    volume = product.volume_ml + s.rng.randint(-20, 20)
    s.emit("DonationCollected", {
        "din": s.din_as_sent(din), "donor_id": donor.donor_id, "site_id": site.site_id,
        "collection_type": COLLECTION_TYPES[code], "product_code": code,
        "category": product.category, "volume_ml": volume,
    }, s.actor(site.site_id, "collector"), expect=expect, units=() if expect else (unit_id,))
    donation = Donation(din, donor.donor_id, site.site_id, site.supplier or site.site_id, s.day,
                        s.clock.now, donor_group=dict(donor.known))
    if expect is None:
        s.donations[din] = donation
        donation.units.append(unit_id)
        unit = s.add_unit(unit_id, din, code, site.site_id, donor, donor.group, s.clock.now)
        unit.volume = volume
        donor.donations.append((din, s.day))
    return donation


def _early_attempt(s: SimState, site: Site) -> None:
    """A donor who gave recently (or is deferred) tries again: the service must refuse."""
    now = s.clock.now
    home = [d for d in s.donors.values() if d.home == site.site_id]
    deferred = [d for d in home if d.deferred_at(now)]
    recent = [d for d in home if d.donations and not d.deferred_at(now)
              and s.day - d.donations[-1][1] < s.rates.min_interval_days]
    if deferred and s.rng.random() < 0.2:
        _collect(s, site, s.rng.choice(deferred), WB, expect="donor-deferred")
    elif recent:
        _collect(s, site, s.rng.choice(recent), WB, expect="donation-interval")


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
