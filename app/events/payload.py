"""The base of every event's data model, the shared value sets, and canonical dumping.

Event data is validated twice in its life: strictly when a client sends it (``validate``),
and again when the store decodes a record (``decode``). A record holds data this service
already normalised, so decoding passes ``STORED`` as the validation context and the field
validators of ``app.events.fields`` let stored spellings through without re-parsing them.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo

SiteKind = Literal["blood_bank", "hospital", "mobile_unit", "lab", "fractionator"]
TestResult = Literal[
    "reactive", "non_reactive", "indeterminate", "positive", "negative", "O", "A", "B", "AB", "POS",
    "NEG",
]
Crossmatch = Literal["compatible", "incompatible", "electronic"]
DiscardReason = Literal[
    "expired", "reactive_test", "damaged", "temperature", "recalled", "returned_late", "other"
]
Severity = Literal["non_severe", "severe", "life_threatening", "death"]
Imputability = Literal["not_assessable", "excluded", "unlikely", "possible", "likely", "certain"]

STORED: Final[dict[str, bool]] = {"stored": True}
"""Validation context for data decoded from the log: already in its stored spelling."""


def is_stored(info: ValidationInfo) -> bool:
    """Whether the value being validated comes from a record (see ``STORED``)."""
    context = info.context
    return isinstance(context, dict) and context.get("stored") is True


class EventData(BaseModel):
    """Base of every event's data: frozen, strict, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class DerivedData(EventData):
    """Data of an event the domain may emit as a consequence of another one."""

    cause_event_id: str | None = Field(
        default=None, description="enrichment: the event that caused this one, when derived"
    )


def unit_id_of(data: EventData) -> str | None:
    """The ``unit_id`` an event's data names, if its type has one."""
    value = data.__dict__.get("unit_id")
    return value if isinstance(value, str) else None


def dump(data: BaseModel) -> dict[str, Any]:
    """The canonical JSON data of a validated model: absent optional fields left out."""
    return data.model_dump(mode="json", exclude_none=True)
