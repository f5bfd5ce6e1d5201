"""At the blood bank: bringing in mobile collections, splitting into components, screening,
release or discard, lookbacks for repeat donors, and pooling platelets in fours."""

from __future__ import annotations

from datetime import timedelta

from app.sim import distribution
from app.sim.donors import defer
from app.sim.model import FFP, PLATELETS, PLT, PLT_POOL, PRODUCTS, RBC, WB, Donation, Unit
from app.sim.state import SimState

MANDATORY = ("HIV", "HBV", "HCV", "SYPHILIS")
LOOKBACK_DAYS = 365
DONOR_DEFERRED_BY_DOMAIN = True
"""The domain defers the donor itself when a mandatory marker is reactive."""


def bring_in(s: SimState) -> None:
    """Mobile units send the day's collections to their blood bank."""
    s.clock.phase(12)
    for donation in s.collected_today:
        if donation.site != donation.bank:
            for unit in _live(s, donation):
                distribution.ship(s, unit, donation.bank, s.serial(f"SHP-{donation.site}"))


def split(s: SimState) -> None:
    """Whole blood becomes red cells and plasma, a share also platelets; all go to storage."""
    s.clock.phase(14)
    r = s.rates
    for donation in s.collected_today:
        for unit in _live(s, donation):
            if unit.site != donation.bank:
                continue
            if unit.product.code == WB and s.rng.random() < r.split_share:
                codes = [RBC, FFP]
                if s.rng.random() < r.platelet_share / r.split_share:
                    codes.append(PLT)
                _split(s, donation, unit, codes)
            else:
                distribution.store(s, unit)


SPLIT_SHARES = {RBC: 0.56, FFP: 0.33, PLT: 0.11}
"""Roughly how a whole-blood donation divides (the rest is lost to bags and filters)."""


def _split(s: SimState, donation: Donation, parent: Unit, codes: list[str]) -> None:
    collected = parent.expires - timedelta(days=parent.product.shelf_days)
    scale = 0.97 if PLT in codes else 0.95 / (1 - SPLIT_SHARES[PLT])
    volumes = [int(parent.volume * SPLIT_SHARES[c] * scale) - s.rng.randint(0, 8)
               for c in codes]
    components = [{"product_code": c, "category": PRODUCTS[c].category, "volume_ml": v}
                  for c, v in zip(codes, volumes, strict=True)]
    ids = tuple(f"{donation.din}-{c}" for c in codes)
    s.emit("UnitSplit", {"unit_id": parent.unit_id, "components": components},
           s.actor(donation.bank, "processing"), units=(parent.unit_id, *ids))
    s.finish(parent, "consumed")
    donor = s.donors[donation.donor_id]
    for code, unit_id, volume in zip(codes, ids, volumes, strict=True):
        child = s.add_unit(unit_id, donation.din, code, donation.bank, donor, donor.group,
                           collected)
        child.volume = volume
        child.pool = code == PLT and s.rng.random() < s.rates.platelet_pool_share
        donation.units.append(unit_id)
        distribution.store(s, child)


def screen(s: SimState) -> None:
    """The governorate's lab records every marker of each donation, from its samples."""
    s.clock.phase(17)
    for donation in s.collected_today:
        bank = s.sites[donation.bank]
        lab = s.network.lab_for(bank.governorate)
        donor = s.donors[donation.donor_id]
        factor = s.rates.repeat_reactive_factor if len(donor.donations) > 1 else 1.0
        results = {m: "non_reactive" for m in MANDATORY}
        for marker, rate in s.rates.reactive:
            if s.rng.random() < rate * factor:
                results[marker] = "reactive"
                donation.reactive.append(marker)
        results |= {"ABO": donor.abo, "RHD": donor.rhd}
        din = s.din_as_sent(donation.din)
        for marker, result in results.items():
            s.emit("TestResultRecorded", {"din": din, "marker": marker, "result": result,
                                          "lab_site_id": lab.site_id},
                   s.actor(lab.site_id, "lab"))
        if donation.reactive:
            for unit in _live(s, donation):
                unit.quarantined = True


def release_or_discard(s: SimState) -> None:
    """Clean donations are released; reactive ones discarded, the donor deferred and, for a
    repeat donor, a lookback started over the donor's earlier donations."""
    s.clock.phase(19)
    for donation in s.collected_today:
        units = _live(s, donation)
        if not donation.reactive:
            for unit in units:
                if unit.site != donation.bank:
                    continue
                s.emit("UnitReleased", {"unit_id": unit.unit_id},
                       s.actor(donation.bank, "processing"), units=(unit.unit_id,))
                unit.released = True
                if unit.category == "plasma":
                    unit.fractionate = (unit.product.code != FFP or s.rng.random()
                                        < s.rates.plasma_to_fractionation)
            continue
        for unit in units:
            s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": "reactive_test"},
                   distribution.custodian(s, unit.site), units=(unit.unit_id,))
            s.finish(unit, "discarded")
        _after_reactive(s, donation)


def _after_reactive(s: SimState, donation: Donation) -> None:
    donor = s.donors[donation.donor_id]
    marker = donation.reactive[0]
    if DONOR_DEFERRED_BY_DOMAIN:
        donor.permanent = True
    else:
        defer(s, donor, s.sites[donation.site], f"reactive {marker}")
    if s.rng.random() < s.rates.false_reactive_share:
        s.reinstate.setdefault(s.day + s.rng.randint(30, 90), []).append(donor)
    if len(donor.donations) > 1:
        lookback_id = s.serial("LB")
        since = s.day - LOOKBACK_DAYS
        s.emit("LookbackStarted", {"lookback_id": lookback_id, "donor_id": donor.donor_id,
                                   "marker": marker, "since": s.when(max(since, 0))},
               s.actor(donation.bank, "processing"))
        s.lookbacks.append((lookback_id, donor, since))
        for din, day in donor.donations:
            if day >= since and din != donation.din:
                for unit in _live(s, s.donations[din]):
                    if unit.status == "stock":
                        unit.quarantined = True


def follow_lookbacks(s: SimState) -> None:
    """Each site holding (or having transfused) a looked-back unit acknowledges it; units
    still in stock are recalled and discarded."""
    s.clock.phase(21)
    started, s.lookbacks = s.lookbacks, []
    for lookback_id, donor, since in started:
        for din, day in donor.donations:
            if day < since or din not in s.donations:
                continue
            for unit_id in s.donations[din].units:
                unit = s.units[unit_id]
                if unit.fate not in (None, "transfused", "fractionated"):
                    continue
                actor = distribution.custodian(s, unit.site)
                s.emit("LookbackAcknowledged", {"lookback_id": lookback_id,
                                                "site_id": unit.site, "unit_id": unit_id},
                       actor)
                if unit.live and unit.status == "stock":
                    s.emit("UnitDiscarded", {"unit_id": unit_id, "reason": "recalled"}, actor,
                           units=(unit_id,))
                    s.finish(unit, "discarded")


def pool_platelets(s: SimState) -> None:
    """Released platelets set aside for pooling are pooled in fours of one ABO/RhD group;
    those still without a full pool the next evening go out as single units."""
    s.clock.phase(20)
    for bank in s.banks:
        by_group: dict[tuple[str, str], list[Unit]] = {}
        for unit in s.available(bank.site_id, PLATELETS):
            if unit.pool:
                by_group.setdefault(unit.group, []).append(unit)
        for group, units in sorted(by_group.items()):
            full = len(units) - len(units) % 4
            for i in range(0, full, 4):
                _pool(s, bank.site_id, group, units[i:i + 4])
            wait = timedelta(days=PRODUCTS[PLT].shelf_days - s.rates.platelet_pool_wait_days)
            for unit in units[full:]:
                if unit.expires - s.clock.now < wait:
                    unit.pool = False


def _pool(s: SimState, bank: str, group: tuple[str, str], parents: list[Unit]) -> None:
    fin = s.sites[bank].fin
    assert fin is not None
    din = s.new_din(fin)
    unit_id = f"{din}-{PLT_POOL}"
    volume = sum(p.volume for p in parents) - 4 * s.rng.randint(0, 3)
    s.emit("UnitsPooled", {"parent_unit_ids": [p.unit_id for p in parents], "din": din,
                           "product_code": PLT_POOL, "category": PLATELETS,
                           "volume_ml": volume},
           s.actor(bank, "processing"), units=(unit_id, *(p.unit_id for p in parents)))
    earliest = min(p.expires for p in parents)
    pool = s.add_unit(unit_id, din, PLT_POOL, bank, None, group,
                      earliest - timedelta(days=PRODUCTS[PLT_POOL].shelf_days))
    pool.volume = volume
    for parent in parents:
        s.finish(parent, "consumed")
        s.donations[parent.din].units.append(unit_id)
    s.emit("UnitReleased", {"unit_id": unit_id}, s.actor(bank, "processing"),
           units=(unit_id,))
    pool.released = True
    distribution.store(s, pool)


def _live(s: SimState, donation: Donation) -> list[Unit]:
    return [u for u in (s.units[i] for i in donation.units) if u.live]
