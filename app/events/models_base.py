"""The base of every event's data model, the shared value sets, and canonical dumping."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

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


