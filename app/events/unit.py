"""The one model of a unit: its state, and what that state says (status, stock, custody).

``UnitState`` is folded by the event types' evolve steps and nowhere else. The writer decides
against it, and the unit read model stores it field for field (``app/projections/units.py``)
with the view below beside it, so ``GET /v1/units/{id}`` and the writer cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

Fate = Literal["transfused", "discarded", "fractionated"]
Status = Literal[
    "transfused", "discarded", "fractionated", "consumed", "in_transit", "issued", "reserved",
    "quarantined", "released", "unreleased",
]
STOCK_STATUSES: Final = frozenset({"unreleased", "quarantined", "released", "reserved", "issued"})
"""Statuses of a unit held at a site: not consumed, not travelling, no final fate."""

HoldCause = Literal[
    "test", "abo_discrepancy", "lookback", "post_donation_information", "adverse_reaction",
    "temperature", "receipt", "recall", "manual",
]
HOLD_CAUSES: Final[tuple[HoldCause, ...]] = (
    "test", "abo_discrepancy", "lookback", "post_donation_information", "adverse_reaction",
    "temperature", "receipt", "recall", "manual",
)
BLOOD_ESTABLISHMENT_CAUSES: Final[frozenset[HoldCause]] = frozenset({
    "test", "abo_discrepancy", "lookback", "post_donation_information", "adverse_reaction",
    "recall",
})
"""Holds only the blood establishment (the processing role, or an admin) may lift; the others
(temperature, receipt, manual) are the custodian's (RULES §2)."""


class Hold(BaseModel):
    """One reason a unit may not be used, open until ``lifted_at``. A unit keeps every hold it
    ever had: a lifted one stays in its history."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    hold_id: str
    cause: HoldCause
    reason: str
    since: datetime
    marker: str | None = None
    din: str | None = None
    lifted_at: datetime | None = None
    lifted_reason: str | None = None

    @property
    def open(self) -> bool:
        return self.lifted_at is None


class UnitState(BaseModel):
    """One unit (one DIN + product code).

    Custody: ``custodian_site_id`` holds it; while shipped it keeps that custodian and
    ``in_transit_to`` names the destination. ``abo``/``rhd`` are the unit's group as known: its
    donation's typing (a pool's parents' common group), confirmed at release.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    unit_id: str
    din: str
    product_code: str
    category: str
    volume_ml: int
    collected_at: datetime
    expires_at: datetime
    source_dins: tuple[str, ...]
    collection_type: str | None = None
    donor_id: str | None = None
    collected_site_id: str | None = None
    parents: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    custodian_site_id: str | None = None
    location: str | None = None
    in_transit_to: str | None = None
    shipment_id: str | None = None
    shipped_at: datetime | None = None
    released: bool = False
    abo: str | None = None
    rhd: str | None = None
    holds: tuple[Hold, ...] = ()
    attributes: tuple[str, ...] = ()
    modifications: tuple[str, ...] = ()
    """The modifications the product went through, in order (``UnitModified``): a thawed
    plasma is kept and carried cold, no longer frozen, and is never thawed again."""
    consumed: bool = False
    excursions: int = 0
    reserved_patient_id: str | None = None
    patient_abo: str | None = None
    patient_rhd: str | None = None
    crossmatch: str | None = None
    issued_patient_id: str | None = None
    issued_at: datetime | None = None
    ward: str | None = None
    emergency: bool = False
    fate: Fate | None = None
    fate_reason: str | None = None
    fate_at: datetime | None = None
    recipient_patient_id: str | None = None
    intended_use: str = "allogeneic"
    """allogeneic, autologous, directed, research or source_plasma (``DonationCollected``)."""
    intended_recipient_id: str | None = None
    """The named recipient of an autologous or directed unit."""
    transfusion_started_at: datetime | None = None
    returned_late: bool = False
    """Came back after the return window without a validated cold chain: only discard."""
    last_at: datetime | None = None
    """When the last step that changed this unit happened (no later step may be dated
    before it)."""

    @property
    def open_holds(self) -> tuple[Hold, ...]:
        return tuple(h for h in self.holds if h.open)

    @property
    def quarantined(self) -> bool:
        """Held for at least one cause."""
        return any(h.open for h in self.holds)

    @property
    def quarantine_reason(self) -> str | None:
        """The reasons of the open holds, for messages."""
        reasons = [f"{h.cause}: {h.reason}" for h in self.holds if h.open]
        return "; ".join(reasons) if reasons else None

    def hold(self, hold_id: str) -> Hold | None:
        return next((h for h in self.holds if h.hold_id == hold_id), None)

    @property
    def live(self) -> bool:
        """Neither consumed by processing nor at a final fate."""
        return not self.consumed and self.fate is None

    @property
    def status(self) -> Status:
        return status_of(self)

    def expired_at(self, moment: datetime) -> bool:
        """In date means ``expires_at > moment``; at the boundary the unit is expired."""
        return self.expires_at <= moment


def status_of(unit: UnitState) -> Status:
    """The one place a unit's status is decided, for the writer and the read models."""
    if unit.fate is not None:
        return unit.fate
    if unit.consumed:
        return "consumed"
    if unit.in_transit_to is not None:
        return "in_transit"
    if unit.issued_patient_id is not None:
        return "issued"
    if unit.reserved_patient_id is not None:
        return "reserved"
    if unit.quarantined or unit.returned_late:  # returned late: awaits its discard
        return "quarantined"
    return "released" if unit.released else "unreleased"


@dataclass(frozen=True, slots=True)
class UnitView:
    """What a unit's state says, as the read models and the API show it."""

    status: Status
    in_stock: bool
    quarantined: bool
    quarantine_reason: str | None
    in_transit_from: str | None
    fate_site_id: str | None


def view_of(unit: UnitState) -> UnitView:
    """Status, whether it counts as stock, whether it is held and why, and where it travels
    from or met its fate."""
    status = status_of(unit)
    return UnitView(
        status=status,
        in_stock=status in STOCK_STATUSES,
        quarantined=unit.quarantined,
        quarantine_reason=unit.quarantine_reason,
        in_transit_from=unit.custodian_site_id if unit.in_transit_to is not None else None,
        fate_site_id=unit.custodian_site_id if unit.fate is not None else None,
    )
