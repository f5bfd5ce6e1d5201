"""At the blood bank: bringing in mobile collections, splitting into components, release
once every result is in (or discard when the rules will never release), and pooling
platelets in fours, each pool cultured on its own DIN before release."""

from __future__ import annotations

from datetime import timedelta

from app.sim import distribution, holds, modification, testing
from app.sim.model import FFP, PLATELETS, PLT, PLT_POOL, PRODUCTS, RBC, WB, Donation, Unit
from app.sim.state import SimState


def bring_in(s: SimState) -> None:
    """Mobile units send the day's collections to their blood bank."""
    s.clock.phase(12)
    for donation in s.collected_today:
        if donation.site != donation.bank:
            for unit in _live(s, donation):
                distribution.ship(s, unit, donation.bank, s.serial(f"SHP-{donation.site}"))


def split(s: SimState) -> None:
    """Whole blood becomes red cells and plasma, a share also platelets; a share of the
    platelets not kept for pooling (split or apheresis) is pathogen-reduced; all go to
    storage."""
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
                distribution.store(s, _pathogen_reduce_some(s, unit))


SAFE_MARGIN = timedelta(hours=1)
"""Units expiring sooner are not released (they are discarded as expired that night)."""
SPLIT_SHARES = {RBC: 0.62, FFP: 0.50, PLT: 0.13}
"""What each component holds, against the whole blood drawn: red cells take up the additive
solution and plasma the anticoagulant, so a 450 mL draw gives about 280 mL of red cells and
225 mL of plasma (less when platelets are made too), within the collection set's allowance
(RULES §5)."""
PLASMA_WITH_PLATELETS = 0.42


def _split(s: SimState, donation: Donation, parent: Unit, codes: list[str]) -> None:
    volumes = [int(parent.volume * (PLASMA_WITH_PLATELETS if c == FFP and PLT in codes
                                    else SPLIT_SHARES[c])) - s.rng.randint(0, 8)
               for c in codes]
    components = [{"product_code": c, "category": PRODUCTS[c].category, "volume_ml": v}
                  for c, v in zip(codes, volumes, strict=True)]
    ids = tuple(f"{donation.din}-{c}" for c in codes)
    s.emit("UnitSplit", {"unit_id": parent.unit_id, "components": components},
           s.actor(donation.bank, "processing"), units=(parent.unit_id, *ids))
    s.finish(parent, "consumed")
    parent.children = list(ids)
    donor = s.donors[str(donation.donor_id)]
    assert parent.collected is not None
    for code, unit_id, volume in zip(codes, ids, volumes, strict=True):
        # A component never outlives its parent, whatever its own shelf life.
        child = s.add_unit(unit_id, donation.din, code, donation.bank, donor, donor.group,
                           parent.collected, parent.source_dins, expires=parent.expires)
        child.volume = volume
        child.holds = list(parent.holds)  # a component keeps its parent's holds
        child.pool = code == PLT and s.rng.random() < s.rates.platelet_pool_share
        donation.units.append(unit_id)
        distribution.store(s, _pathogen_reduce_some(s, child))


def _pathogen_reduce_some(s: SimState, unit: Unit) -> Unit:
    """A share of the platelets not kept for pooling is pathogen-reduced as it is made:
    the unit that takes its place (RULES §3: it needs no bacterial screen)."""
    if (unit.pool or not modification.modifiable(unit, "pathogen_reduced")
            or s.rng.random() >= s.rates.pathogen_reduced_share):
        return unit
    return modification.modify(s, unit, "pathogen_reduced", "processing",
                               path="platelets pathogen-reduced")


def release_or_discard(s: SimState) -> None:
    """Units the rules will never release are discarded; units whose every result is in and
    clear, with no hold, are released by the bank's processing staff."""
    s.clock.phase(19)
    holds.discard_doomed(s)
    for unit in list(s.unreleased.values()):
        if unit.pool:
            if s.rng.random() < s.rates.mistake_share and _releasable(s, unit, culture=False):
                # Released before its culture is in: refused.
                s.emit("UnitReleased", {"unit_id": unit.unit_id},
                       s.actor(unit.site, "processing"), expect="tests-incomplete")
            continue
        if _releasable(s, unit):
            s.emit("UnitReleased", {"unit_id": unit.unit_id}, s.actor(unit.site, "processing"),
                   units=(unit.unit_id,))
            unit.released = True
            del s.unreleased[unit.unit_id]
            if unit.category == "plasma":
                unit.fractionate = (unit.product.code != FFP or s.rng.random()
                                    < s.rates.plasma_to_fractionation)
            modification.irradiate_some(s, unit)


def _releasable(s: SimState, unit: Unit, *, culture: bool = True) -> bool:
    """What ``release_basis`` asks, as the sim knows it: at a blood bank, no hold, in date,
    every source donation clear and typed, platelets cultured clear (on each source or on
    the pool's own DIN) unless pathogen-reduced."""
    if (unit.status != "stock" or unit.holds or s.sites[unit.site].kind != "blood_bank"
            or unit.expires <= s.clock.now + SAFE_MARGIN):
        return False
    sources = [s.donations[din] for din in unit.source_dins]
    if any(d.blocked or d.open_groups or len(d.typed) < 2 for d in sources):
        return False
    own = s.donations[unit.din]
    if own.blocked:
        return False
    if not all(d.clear(m) for d in sources for m in testing.MANDATORY):
        return False
    if unit.category == PLATELETS and culture and "pathogen_reduced" not in unit.attributes:
        return own.clear("BACTERIA") or all(d.clear("BACTERIA") for d in sources)
    return True


def pool_platelets(s: SimState) -> None:
    """Platelets set aside for pooling, once every other result is in, are pooled in fours
    of one ABO/RhD group; the pool is cultured on its own DIN the next day. Those still
    without a full pool near the end of their wait are cultured on their own donation and
    go out as single units."""
    s.clock.phase(20)
    wait = timedelta(days=PRODUCTS[PLT].shelf_days - s.rates.platelet_pool_wait_days)
    for bank in s.banks:
        by_group: dict[tuple[str, str], list[Unit]] = {}
        for unit in s.stock.get((bank.site_id, PLATELETS), {}).values():
            if unit.pool and _releasable(s, unit, culture=False):
                by_group.setdefault(unit.group, []).append(unit)
        for group, units in sorted(by_group.items()):
            units.sort(key=lambda u: (u.expires, u.unit_id))
            full = len(units) - len(units) % 4
            for i in range(0, full, 4):
                _pool(s, bank.site_id, group, units[i:i + 4])
            for unit in units[full:]:
                if unit.expires - s.clock.now < wait:
                    unit.pool = False
                    s.order_test(1, "culture", unit.din, "BACTERIA")


def _pool(s: SimState, bank: str, group: tuple[str, str], parents: list[Unit]) -> None:
    fin = s.sites[bank].fin
    assert fin is not None
    din = s.new_din(fin)
    unit_id = f"{din}-{PLT_POOL}"
    volume = sum(p.volume for p in parents) - 4 * s.rng.randint(0, 3)
    step = s.emit("UnitsPooled", {"parent_unit_ids": [p.unit_id for p in parents],
                                  "din": din, "product_code": PLT_POOL,
                                  "category": PLATELETS, "volume_ml": volume},
                  s.actor(bank, "processing"), units=(unit_id, *(p.unit_id for p in parents)))
    sources = tuple(dict.fromkeys(d for p in parents for d in p.source_dins))
    collected = min(p.collected for p in parents if p.collected is not None)
    pool = s.add_unit(unit_id, din, PLT_POOL, bank, None, group, collected, sources,
                      expires=min(p.expires for p in parents))
    pool.volume = volume
    for parent in parents:
        s.finish(parent, "consumed")
        parent.children.append(unit_id)
    s.donations[din] = Donation(din, None, bank, bank, s.day, step.at, [unit_id])
    s.order_test(1, "culture", din, "BACTERIA")
    distribution.store(s, pool)


def _live(s: SimState, donation: Donation) -> list[Unit]:
    return [u for u in (s.units[i] for i in donation.units) if u.live]
