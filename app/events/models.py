"""The data of every v1 event type: frozen pydantic models, one per type, named after it.

Field names are the v1 contract of DESIGN §3. Integers are strict (no floats, no numeric
strings); DINs accept the bare, checked and barcode forms and are stored bare; times are stored
as RFC 3339 UTC. Fields marked *enrichment* are set by the domain when it decides the event, so
read models need no domain logic; a client may leave them out. This module holds sites,
donors, collection, processing, testing and release; ``models_units`` the rest.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

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
    Text,
    Timestamp,
    UnitId,
    VolumeMl,
)
from app.events.models_base import DerivedData, EventData, SiteKind, TestResult
from app.events.models_units import (
    AdverseReactionReported,
    LookbackAcknowledged,
    LookbackStarted,
    QuarantineLifted,
    ReservationReleased,
    TemperatureExcursionRecorded,
    UnitDiscarded,
    UnitIssued,
    UnitQuarantined,
    UnitReceived,
    UnitReserved,
    UnitReturned,
    UnitShipped,
    UnitShippedForFractionation,
    UnitStored,
    UnitTransfused,
)


class SiteRegistered(EventData):
    """A site of the network: blood bank, hospital, mobile unit, lab or fractionator."""

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
    """A deferred donor may give again; ``until`` is ignored."""

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

    @model_validator(mode="after")
    def _result_fits_marker(self) -> TestResultRecorded:
        if self.marker not in ("ABO", "RHD") and self.result not in (
            "reactive", "non_reactive", "indeterminate"
        ):
            raise ValueError(f"{self.marker} results are reactive, non_reactive or indeterminate")
        return self


class UnitReleased(EventData):
    """Enrichment: ``abo``, ``rhd``, ``category`` and ``expires_at`` of the released unit."""

    unit_id: UnitId
    abo: AboGroup | None = None
    rhd: RhdType | None = None
    category: Category | None = None
    expires_at: Timestamp | None = None



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
