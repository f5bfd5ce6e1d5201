"""The read models, by name, in the order a batch applies them."""

from __future__ import annotations

from app.projections.audit import AuditProjection
from app.projections.base import Projection
from app.projections.lookback import LookbackProjection
from app.projections.provenance import ProvenanceProjection
from app.projections.transfusion import TransfusionProjection
from app.projections.units import UnitsProjection

PROJECTIONS: tuple[Projection, ...] = (
    UnitsProjection(),
    ProvenanceProjection(),
    LookbackProjection(),
    AuditProjection(),
    TransfusionProjection(),
)
BY_NAME: dict[str, Projection] = {p.name: p for p in PROJECTIONS}


def select(names: list[str] | None) -> tuple[Projection, ...]:
    """The named projections (all when ``names`` is None); raises KeyError on an unknown one."""
    if names is None:
        return PROJECTIONS
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise KeyError(f"unknown projection(s): {', '.join(unknown)}; "
                       f"known: {', '.join(BY_NAME)}")
    return tuple(p for p in PROJECTIONS if p.name in names)
