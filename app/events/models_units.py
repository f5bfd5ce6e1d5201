"""The data of the unit events after release: quarantine, storage, custody, the hospital
steps, final fates and lookback (see ``models`` for the conventions)."""

from __future__ import annotations

from pydantic import Field, StrictBool, model_validator

from app.events.fields import (
    AboGroup,
    Din,
    Ident,
    Marker,
    Pseudonym,
    RhdType,
    TempDc,
    Text,
    Timestamp,
    UnitId,
)
from app.events.models_base import (
    Crossmatch,
    DerivedData,
    DiscardReason,
    EventData,
    Imputability,
    Severity,
)


class UnitQuarantined(DerivedData):
    """The unit is held: not released, reserved, issued or transfused until lifted.

    Also derived by the domain (with ``cause_event_id``) from a reactive result, a lookback,
    a temperature excursion or a refused receipt."""

    unit_id: UnitId
    reason: Text


class QuarantineLifted(EventData):
    """The hold ends, with a reason; refused while a source donation is reactive."""

    unit_id: UnitId
    reason: Text


class UnitStored(EventData):
    """The unit is put away at its custodian site, at a location there."""

    unit_id: UnitId
    site_id: Ident
    location: Text


class TemperatureExcursionRecorded(EventData):
    """Readings out of the usual storage, in tenths of °C; outside the category's range
    the domain quarantines the unit in the same decision."""

    unit_id: UnitId
    min_temp_dc: TempDc
    max_temp_dc: TempDc
    minutes: int = Field(ge=0, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> TemperatureExcursionRecorded:
        if self.min_temp_dc > self.max_temp_dc:
            raise ValueError("min_temp_dc is above max_temp_dc")
        return self


class UnitShipped(EventData):
    """The custodian sends the unit to another site; it stays custodian until receipt."""

    unit_id: UnitId
    from_site_id: Ident
    to_site_id: Ident
    shipment_id: Ident


class UnitReceived(EventData):
    """``accepted: false`` still hands custody to the receiver (the unit is physically
    there) and quarantines the unit in the same decision."""

    unit_id: UnitId
    site_id: Ident
    shipment_id: Ident
    accepted: StrictBool
    temp_dc: TempDc | None = None


class UnitReserved(EventData):
    """Reserved (crossmatched) for a pseudonymous patient of the given group."""

    unit_id: UnitId
    patient_id: Pseudonym
    patient_abo: AboGroup
    patient_rhd: RhdType
    crossmatch: Crossmatch


class ReservationReleased(EventData):
    """The reservation ends; the unit is back in stock."""

    unit_id: UnitId
    reason: Text | None = None


class UnitIssued(EventData):
    """Emergency issue (``emergency: true``) needs ``justification`` and ``physician_id`` and
    no reservation; ``patient_abo``/``patient_rhd`` are optional and, when absent, the
    patient's group counts as unknown."""

    unit_id: UnitId
    patient_id: Pseudonym
    ward: Text | None = None
    emergency: StrictBool = False
    justification: Text | None = None
    physician_id: Ident | None = None
    patient_abo: AboGroup | None = None
    patient_rhd: RhdType | None = None


class UnitReturned(EventData):
    """An issued unit comes back into stock within the return window."""

    unit_id: UnitId
    reason: Text | None = None


class UnitTransfused(EventData):
    """Final fate: transfused to the patient it was issued to."""

    unit_id: UnitId
    patient_id: Pseudonym


class AdverseReactionReported(EventData):
    """An annotation on a transfused unit: reaction type, severity, imputability."""

    unit_id: UnitId
    patient_id: Pseudonym
    reaction_type: Text
    severity: Severity
    imputability: Imputability


class UnitDiscarded(EventData):
    """Final fate: discarded, with a reason code."""

    unit_id: UnitId
    reason: DiscardReason


class UnitShippedForFractionation(EventData):
    """Final fate: released plasma leaves for a plasma fractionator."""

    unit_id: UnitId
    fractionator_site_id: Ident


class LookbackUnit(EventData):
    """One unit a lookback found, with who holds or received it."""

    unit_id: UnitId
    din: Din
    status: str
    custodian_site_id: str | None = None
    in_transit_to: str | None = None
    patient_id: str | None = None
    quarantined: bool = False


class LookbackStarted(EventData):
    """From a donor (donations since ``since``) or one DIN. Enrichment: ``dins`` and
    ``units`` (every unit derived through splits and pools, with custodian or recipient)."""

    lookback_id: Ident
    donor_id: Pseudonym | None = None
    din: Din | None = None
    marker: Marker
    since: Timestamp | None = None
    dins: list[Din] | None = None
    units: list[LookbackUnit] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> LookbackStarted:
        if (self.donor_id is None) == (self.din is None):
            raise ValueError("give exactly one of donor_id or din")
        return self


class LookbackAcknowledged(EventData):
    """A site that held or transfused a unit of a lookback acknowledges it."""

    lookback_id: Ident
    site_id: Ident
    unit_id: UnitId


