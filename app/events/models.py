"""The data of every v1 event type: frozen pydantic models, one per type, named after it.

Field names are the v1 contract of DESIGN §3. Integers are strict (no floats, no numeric
strings); DINs accept the bare, checked and barcode forms and are stored bare; times are stored
as RFC 3339 UTC. Fields marked *enrichment* are set by the domain when it decides the event, so
read models need no domain logic; a client may leave them out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from app.events import isbt
from app.events.catalogue import Category, CollectionType
from app.events.fields import (
    AboGroup,
    Din,
    Ident,
    Marker,
    ProductCode,
    Pseudonym,
    RhdType,
    TempDc,
    Text,
    Timestamp,
    UnitId,
    VolumeMl,
)

SiteKind = Literal["blood_bank", "hospital", "mobile_unit", "lab", "fractionator"]
TestResult = Literal["reactive", "non_reactive", "indeterminate", "O", "A", "B", "AB", "POS", "NEG"]
Crossmatch = Literal["compatible", "incompatible", "electronic"]
DiscardReason = Literal[
    "expired", "reactive_test", "damaged", "temperature", "recalled", "returned_late", "other"
]
Severity = Literal["non_severe", "severe", "life_threatening", "death"]
Imputability = Literal["not_assessable", "excluded", "unlikely", "possible", "likely", "certain"]


class EventData(BaseModel):
    """Base of every event's data: frozen, strict, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def dump(data: EventData) -> dict[str, Any]:
    """The canonical JSON data of a validated model: absent optional fields left out."""
    return data.model_dump(mode="json", exclude_none=True)


def own(data: DerivedData) -> dict[str, Any]:
    """Data of an event asked for directly: ``cause_event_id`` is the domain's to set."""
    body = dump(data)
    body.pop("cause_event_id", None)
    return body


class DerivedData(EventData):
    """Data of an event the domain may emit as a consequence of another one."""

    cause_event_id: str | None = Field(
        default=None, description="enrichment: the event that caused this one, when derived"
    )


class SiteRegistered(EventData):
    site_id: Ident
    name: Text
    kind: SiteKind
    region: Text


class DonorRegistered(EventData):
    """A donor, known only by a pseudonym; names and national ids never enter the log."""

    donor_id: Pseudonym
    abo: AboGroup | None = None
    rhd: RhdType | None = None


class DonorDeferred(DerivedData):
    """``until`` absent means a permanent deferral."""

    donor_id: Pseudonym
    reason: Text
    until: Timestamp | None = None


class DonorReinstated(EventData):
    donor_id: Pseudonym
    reason: Text
    until: Timestamp | None = None


class DonationCollected(EventData):
    """Creates unit ``{din}-{product_code}``.

    Enrichment: ``unit_id`` and ``expires_at`` (collection time + the catalogue's shelf life,
    or an earlier expiry the client gives).
    """

    din: Din
    donor_id: Pseudonym
    site_id: Ident
    collection_type: CollectionType
    product_code: ProductCode
    category: Category
    volume_ml: VolumeMl
    unit_id: UnitId | None = None
    expires_at: Timestamp | None = None


class Component(EventData):
    """One child of a split. Enrichment: ``unit_id`` and ``expires_at``."""

    product_code: ProductCode
    category: Category
    volume_ml: VolumeMl
    unit_id: UnitId | None = None
    expires_at: Timestamp | None = None


class UnitSplit(EventData):
    """The parent is consumed; each component keeps the DIN. Enrichment: ``din``."""

    unit_id: UnitId
    components: list[Component] = Field(min_length=1, max_length=16)
    din: Din | None = None


class UnitsPooled(EventData):
    """Parents are consumed into a new DIN. Enrichment: ``unit_id``, ``expires_at``."""

    parent_unit_ids: list[UnitId] = Field(min_length=2, max_length=32)
    din: Din
    product_code: ProductCode
    category: Category
    volume_ml: VolumeMl
    unit_id: UnitId | None = None
    expires_at: Timestamp | None = None


class TestResultRecorded(EventData):
    """One marker's result for a donation. ABO results are O/A/B/AB, RHD results POS/NEG
    (ISBT codes and +/- accepted), the others reactive/non_reactive/indeterminate."""

    __test__ = False  # a model, not a pytest class

    din: Din
    marker: Marker
    result: TestResult
    lab_site_id: Ident

    @model_validator(mode="before")
    @classmethod
    def _normalise_result(cls, raw: Any) -> Any:
        if not isinstance(raw, dict):
            return raw
        marker = str(raw.get("marker", "")).strip().upper()
        result = raw.get("result")
        if marker == "ABO":
            return {**raw, "result": isbt.parse_abo(result, "data.result")}
        if marker == "RHD":
            return {**raw, "result": isbt.parse_rhd(result, "data.result")}
        if isinstance(result, str) and result.strip().lower() in (
            "reactive", "non_reactive", "indeterminate"
        ):
            return {**raw, "result": result.strip().lower()}
        return raw


class UnitReleased(EventData):
    """Enrichment: ``abo``, ``rhd``, ``category`` and ``expires_at`` of the released unit."""

    unit_id: UnitId
    abo: AboGroup | None = None
    rhd: RhdType | None = None
    category: Category | None = None
    expires_at: Timestamp | None = None


class UnitQuarantined(DerivedData):
    unit_id: UnitId
    reason: Text


class QuarantineLifted(EventData):
    unit_id: UnitId
    reason: Text


class UnitStored(EventData):
    unit_id: UnitId
    site_id: Ident
    location: Text


class TemperatureExcursionRecorded(EventData):
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
    unit_id: UnitId
    patient_id: Pseudonym
    patient_abo: AboGroup
    patient_rhd: RhdType
    crossmatch: Crossmatch


class ReservationReleased(EventData):
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
    unit_id: UnitId
    reason: Text | None = None


class UnitTransfused(EventData):
    unit_id: UnitId
    patient_id: Pseudonym


class AdverseReactionReported(EventData):
    unit_id: UnitId
    patient_id: Pseudonym
    reaction_type: Text
    severity: Severity
    imputability: Imputability


class UnitDiscarded(EventData):
    unit_id: UnitId
    reason: DiscardReason


class UnitShippedForFractionation(EventData):
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
    lookback_id: Ident
    site_id: Ident
    unit_id: UnitId


MODELS: dict[str, type[EventData]] = {
    cls.__name__: cls
    for cls in (
        SiteRegistered, DonorRegistered, DonorDeferred, DonorReinstated, DonationCollected,
        UnitSplit, UnitsPooled, TestResultRecorded, UnitReleased, UnitQuarantined,
        QuarantineLifted, UnitStored, TemperatureExcursionRecorded, UnitShipped, UnitReceived,
        UnitReserved, ReservationReleased, UnitIssued, UnitReturned, UnitTransfused,
        AdverseReactionReported, UnitDiscarded, UnitShippedForFractionation, LookbackStarted,
        LookbackAcknowledged,
    )
}
"""Every v1 event type → the model of its data."""
