"""Custody: storage, shipments and receipts (mobile unit → bank, bank → hospital, hospital →
second hospital), hospital restocking to a par level, and plasma to fractionation."""

from __future__ import annotations

from app.sim import holds
from app.sim.model import (
    GROUPS,
    PLASMA,
    PLATELETS,
    RED_CELLS,
    WHOLE_BLOOD,
    Unit,
    plasma_compatible,
    red_cells_compatible,
)
from app.sim.patients import suitable
from app.sim.state import SimState

COVER_DAYS = {RED_CELLS: 4.0, WHOLE_BLOOD: 2.0, PLASMA: 5.0, PLATELETS: 1.5}
HOSPITAL_LOCATION = {RED_CELLS: "blood-fridge", WHOLE_BLOOD: "blood-fridge",
                     PLASMA: "plasma-freezer", PLATELETS: "platelet-agitator"}
MIN_PAR = {(RED_CELLS, ("O", "NEG")): 2, (RED_CELLS, ("O", "POS")): 2,
           (RED_CELLS, ("A", "POS")): 1, (PLASMA, ("AB", "POS")): 1}
"""What every hospital keeps whatever its use: emergency group O red cells, a few of the
commonest groups, universal plasma."""
ARRIVAL_DC = {RED_CELLS: (20, 95), WHOLE_BLOOD: (20, 95), PLASMA: (-350, -200),
              PLATELETS: (205, 235)}
"""Arrival temperatures (tenths of °C) inside the transport range of each category: red
cells may arrive at 8 °C without a hold (RULES §6)."""
WARM_ARRIVAL_DC = {RED_CELLS: (105, 140), WHOLE_BLOOD: (105, 140), PLASMA: (-150, -100),
                   PLATELETS: (245, 270)}
"""Arrivals outside it: the receiver refuses the unit, or accepts it and the rules hold it."""


def store(s: SimState, unit: Unit, location: str | None = None) -> None:
    """Put a unit away at its custodian; a few storage periods see a temperature excursion."""
    s.emit("UnitStored", {"unit_id": unit.unit_id, "site_id": unit.site,
                          "location": location or unit.product.location},
           s.custodian(unit.site), units=(unit.unit_id,))
    r = s.rng.random()
    if r < s.rates.excursion_share:
        s.excursion_due.append((unit, "temperature"))
    elif r < s.rates.excursion_share + s.rates.damage_share:
        s.excursion_due.append((unit, "damaged"))
    elif r < s.rates.excursion_share + s.rates.damage_share + s.rates.inspection_share:
        s.excursion_due.append((unit, "inspection"))


def ship(s: SimState, unit: Unit, destination: str, shipment_id: str) -> None:
    s.emit("UnitShipped", {"unit_id": unit.unit_id, "from_site_id": unit.site,
                           "to_site_id": destination, "shipment_id": shipment_id},
           s.custodian(unit.site), units=(unit.unit_id,))
    unit.status = "transit"
    unit.in_transit_to = destination
    s.in_transit.append((unit, shipment_id, destination))


def receive_all(s: SimState, hour: float) -> None:
    """Every unit shipped in the previous phase arrives, at a temperature inside the
    transport range. At a hospital a few arrive too warm: refused at the door and discarded,
    or accepted and held by the rules until assessed the next morning."""
    s.clock.phase(hour)
    arrivals, s.in_transit = s.in_transit, []
    for unit, shipment_id, destination in arrivals:
        if not unit.live:
            continue
        hospital = s.sites[destination].kind == "hospital"
        r = s.rng.random()
        refused = hospital and r < s.rates.shipment_refused_share
        warm = hospital and r < s.rates.shipment_refused_share + (
            s.rates.receipt_out_of_range_share)
        low, high = (WARM_ARRIVAL_DC if warm else ARRIVAL_DC)[unit.category]
        step = s.emit("UnitReceived", {"unit_id": unit.unit_id, "site_id": destination,
                                       "shipment_id": shipment_id, "accepted": not refused,
                                       "temp_dc": s.rng.randint(low, high)},
                      s.custodian(destination), units=(unit.unit_id,),
                      path="arrival outside the transport range: held"
                      if warm and not refused else None)
        unit.status = "stock"
        unit.in_transit_to = None
        unit.moves += 1
        s.move(unit, destination)
        if refused:
            # Refused on arrival (too warm): the rules hold it, and the receiver discards.
            holds.place(step, [unit], "receipt")
            s.emit("UnitDiscarded", {"unit_id": unit.unit_id, "reason": "temperature"},
                   s.custodian(destination), units=(unit.unit_id,))
            s.finish(unit, "discarded")
            continue
        if warm:
            holds.place(step, [unit], "receipt")
            s.watch.append((unit, unit.holds[-1], "receipt"))
        if hospital or unit.released:
            store(s, unit, HOSPITAL_LOCATION[unit.category] if hospital else None)


def restock_hospitals(s: SimState) -> None:
    """Each bank tops up its hospitals to a few days of expected use, first-expiring first:
    red cells and whole blood per ABO/RhD group, the other categories as a whole."""
    s.clock.phase(9)
    for bank in s.banks:
        for hospital in s.hospitals.get(bank.site_id, []):
            shipment = s.serial(f"SHP-{bank.site_id}")
            for category in (RED_CELLS, WHOLE_BLOOD, PLATELETS, PLASMA):
                cover = demand(s, hospital.site_id, category) * COVER_DAYS[category]
                have = s.available(hospital.site_id, category)
                spare = [u for u in s.available(bank.site_id, category)
                         if not (u.fractionate or u.pool)]
                wanted = []
                if category in (RED_CELLS, WHOLE_BLOOD):
                    for abo, rhd, share in GROUPS:
                        par = max(round(cover * share), MIN_PAR.get((category, (abo, rhd)), 0))
                        held = sum(1 for u in have if u.group == (abo, rhd))
                        wanted += [u for u in spare if u.group == (abo, rhd)][: par - held]
                else:
                    for group, par in MIN_PAR.items():
                        if group[0] == category:
                            held = sum(1 for u in have if u.group == group[1])
                            wanted += [u for u in spare if u.group == group[1]][: par - held]
                    spare = [u for u in spare if u not in wanted]
                    wanted += spare[: max(0, round(cover) - len(have) - len(wanted))]
                for unit in wanted:
                    ship(s, unit, hospital.site_id, shipment)


def urgent_orders(s: SimState) -> None:
    """Requests a hospital could not meet with the patient's own group are sent now: the
    same group from its bank, another bank of the governorate or the central bank; failing
    that the hospital gives a compatible unit of its own, or one is sent; always one that
    meets the patient's requirements."""
    s.clock.phase(15)
    orders, s.orders = s.orders, []
    for hospital_id, category, patient_id, group in orders:
        s.awaiting.append((hospital_id, category, patient_id, group))
        patient = s.patients[patient_id]
        suppliers = _suppliers(s, hospital_id)
        sources = [(bank, True) for bank in suppliers]
        if choose(suitable(s.available(hospital_id, category), patient), category,
                  group) is None:
            sources += [(bank, False) for bank in suppliers]
        for bank, identical in sources:
            unit = choose(suitable(s.available(bank, category), patient), category, group,
                          identical=identical)
            if unit is not None:
                ship(s, unit, hospital_id, s.serial(f"URG-{bank}"))
                break


def _suppliers(s: SimState, hospital_id: str) -> list[str]:
    hospital = s.sites[hospital_id]
    own = hospital.supplier or ""
    near = [b.site_id for b in s.banks
            if b.governorate == hospital.governorate and b.site_id != own]
    central = [s.banks[0].site_id] if s.banks[0].site_id not in (own, *near) else []
    return [own, *near, *central]


def choose(stock: list[Unit], category: str, group: tuple[str, str], *,
           identical: bool = False) -> Unit | None:
    """The first-expiring unit of the patient's own group, else (unless ``identical``) a
    compatible one."""
    if category == PLATELETS:
        return stock[0] if stock else None
    same = [u for u in stock if u.group == group]
    if same or identical:
        return same[0] if same else None
    if category == WHOLE_BLOOD:  # cells and plasma: identical ABO only
        return next((u for u in stock if u.abo == group[0]
                     and red_cells_compatible(u.group, group)), None)
    fits = plasma_compatible if category == PLASMA else red_cells_compatible
    return next((u for u in stock if fits(u.group, group)), None)


def transfer_between_hospitals(s: SimState) -> None:
    """Red cells nearing expiry at one hospital move to a sister hospital that uses more."""
    s.clock.phase(11)
    for siblings in s.hospitals.values():
        if len(siblings) < 2:
            continue
        for hospital in siblings:
            others = [h for h in siblings if h is not hospital]
            for unit in s.available(hospital.site_id, RED_CELLS):
                soon = (unit.expires - s.clock.now).days < 10
                if soon and unit.moves < 2 and s.rng.random() < s.rates.second_hospital_share:
                    target = s.rng.choice(others)
                    ship(s, unit, target.site_id, s.serial(f"SHP-{hospital.site_id}"))


def ship_for_fractionation(s: SimState) -> None:
    """Once a week each bank sends its plasma set aside for fractionation."""
    s.clock.phase(15)
    fractionator = s.network.fractionator.site_id
    for index, bank in enumerate(s.banks):
        if (s.day + index) % 7:
            continue
        for unit in s.available(bank.site_id, PLASMA):
            if unit.fractionate:
                s.emit("UnitShippedForFractionation",
                       {"unit_id": unit.unit_id, "fractionator_site_id": fractionator},
                       s.custodian(bank.site_id), units=(unit.unit_id,))
                s.finish(unit, "fractionated")
                unit.site = fractionator


def demand(s: SimState, hospital_id: str, category: str) -> float:
    """Expected units of ``category`` a hospital uses per day, from its bank's supply."""
    r = s.rates
    per_day = s.config.donations / s.config.days
    bank = s.sites[s.sites[hospital_id].supplier or ""]
    share = supply_share(s, bank.site_id)
    split = r.whole_blood_share * r.split_share
    per_category = {
        RED_CELLS: split * r.red_cell_use_per_donation,
        WHOLE_BLOOD: r.whole_blood_share * (1 - r.split_share) * r.red_cell_use_per_donation,
        PLASMA: split * (1 - r.plasma_to_fractionation) * r.plasma_use_per_unit,
        PLATELETS: r.whole_blood_share * r.platelet_share * r.platelet_use_per_unit,
    }
    return per_day * share * per_category[category] / len(s.hospitals[bank.site_id])


def supply_share(s: SimState, bank_id: str) -> float:
    """The share of the nation's collections a bank processes (its own and its mobile
    units'), which is also the share of use its hospitals see."""
    mobiles = [c for c in s.collecting if c.kind == "mobile_unit"]
    total_weight = sum(b.weight for b in s.banks)
    own = s.sites[bank_id].weight / total_weight * (1 - s.rates.mobile_share)
    mobile = sum(1 for m in mobiles if m.supplier == bank_id) / max(1, len(mobiles))
    return own + mobile * s.rates.mobile_share
