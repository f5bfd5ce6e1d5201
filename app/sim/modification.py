"""Product modifications (RULES §5): red cells and platelets irradiated at the blood bank
once released, platelets pathogen-reduced as they are made, plasma thawed at hospitals.

Each makes a new unit ``DIN-{new product code}`` (``MODIFIED``) that keeps its parent's
holds, release and attributes, and consumes the parent. Its expiry is the parent's, or
sooner when the catalogue's rule for the modification and category says so (irradiated red
cells keep 14 days, thawed plasma 24 h).
"""

from __future__ import annotations

from datetime import timedelta

from app.sim import distribution
from app.sim.model import MODIFIED, PLASMA, Unit
from app.sim.state import SimState

ATTRIBUTES = {"irradiated": "irradiated", "pathogen_reduced": "pathogen_reduced"}
"""What a patient's requirement may ask for, by the modification that gives it."""
DEVICES = {"irradiated": "IRR", "pathogen_reduced": "PRT"}


def modifiable(unit: Unit, modification: str) -> bool:
    return (unit.product.code, modification) in MODIFIED


def modify(s: SimState, unit: Unit, modification: str, role: str, *,
           path: str | None = None) -> Unit:
    """The custodian's ``role`` modifies ``unit``; returns the new unit, in its place."""
    code = MODIFIED[(unit.product.code, modification)]
    new_id = f"{unit.din}-{code}"
    data: dict[str, object] = {"unit_id": unit.unit_id, "modification": modification,
                               "product_code": code}
    if modification in DEVICES:
        data["device_id"] = f"{DEVICES[modification]}-{unit.site}"
    step = s.emit("UnitModified", data, s.actor(unit.site, role),
                  units=(unit.unit_id, new_id), path=path)
    expires = unit.expires
    hours = s.products.modification_hours.get(modification, {}).get(unit.category)
    if hours is not None:
        expires = min(expires, step.at + timedelta(hours=hours))
    s.finish(unit, "consumed")
    unit.children.append(new_id)
    assert unit.collected is not None
    child = s.add_unit(new_id, unit.din, code, unit.site, None, unit.group, unit.collected,
                       unit.source_dins, expires=expires)
    child.donor_id = unit.donor_id
    child.volume, child.holds, child.moves = unit.volume, list(unit.holds), unit.moves
    child.released, child.fractionate = unit.released, unit.fractionate
    gained = ATTRIBUTES.get(modification)
    child.attributes = tuple(sorted({*unit.attributes, *([gained] if gained else [])}))
    if child.released:
        del s.unreleased[new_id]
    s.donations[unit.din].units.append(new_id)
    return child


def irradiate_some(s: SimState, unit: Unit) -> None:
    """A share of the red cells and platelets just released are irradiated (for patients
    who need it), then put away."""
    if (not modifiable(unit, "irradiated") or unit.fractionate
            or s.rng.random() >= s.rates.irradiated_share):
        return
    irradiated = modify(s, unit, "irradiated", "processing",
                        path=f"{unit.category.replace('_', ' ')} irradiated at the blood bank")
    distribution.store(s, irradiated)


def thaw(s: SimState) -> None:
    """Each hospital thaws part of the plasma it expects to use today for the afternoon's
    lists; what is not used expires within the day and is discarded."""
    s.clock.phase(13.5)
    for hospitals in s.hospitals.values():
        for hospital in hospitals:
            expected = distribution.demand(s, hospital.site_id, PLASMA)
            wanted = s.poisson(expected * s.rates.thawed_plasma_share)
            frozen = [u for u in s.available(hospital.site_id, PLASMA)
                      if modifiable(u, "thawed")]
            for unit in frozen[:wanted]:
                thawed = modify(s, unit, "thawed", "hospital",
                                path="plasma thawed at a hospital")
                distribution.store(s, thawed)
