"""The base of every event's data model, the shared value sets, and canonical dumping.

Event data is validated twice in its life: strictly when a client sends it (``validate``),
and again when the store decodes a record (``decode``). A record holds data this service
already normalised, so decoding passes ``STORED`` as the validation context and the field
validators of ``app.events.fields`` let stored spellings through without re-parsing them.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import copy
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar, get_args

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

M = TypeVar("M", bound=BaseModel)
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


def construct(model: type[M], data: Mapping[str, Any]) -> M:
    """A model from data in its stored spelling (or from fields evolve computed from such
    data), without validating it again.

    Records hold data this service validated and normalised when it decided the event, and
    the chain proves they are unchanged, so decoding them (30 years of them, in a rebuild)
    need not re-run every validator. Nested models (given as dicts) are built the same way.
    """
    plan = _plan(model)
    if plan.aliases:  # a record spells a field by its alias ("pass")
        data = {plan.aliases.get(k, k): v for k, v in data.items()}
    values = {**plan.defaults, **data}
    for name, default in plan.mutable:
        if name not in data:
            values[name] = copy(default)
    for name, inner in plan.nested:
        value = values.get(name)
        if type(value) is dict:
            values[name] = construct(inner, value)
        elif type(value) is list or type(value) is tuple:  # a record's list, or models already
            values[name] = type(value)(construct(inner, v) if type(v) is dict else v
                                       for v in value)
    return instance(model, values, set(data))


def instance(model: type[M], values: dict[str, Any], fields_set: set[str]) -> M:
    """What ``model_construct`` makes, from every field's value, without its look-ups."""
    made = model.__new__(model)
    object.__setattr__(made, "__dict__", values)
    object.__setattr__(made, "__pydantic_fields_set__", fields_set)
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    return made


@dataclass(frozen=True, slots=True)
class _Plan:
    defaults: dict[str, Any]
    mutable: tuple[tuple[str, Any], ...]
    nested: tuple[tuple[str, type[BaseModel]], ...]
    aliases: dict[str, str]


_PLANS: dict[type[BaseModel], _Plan] = {}


def _plan(model: type[BaseModel]) -> _Plan:
    """A model's defaults (all immutable but ``{}``/``[]``, copied per instance) and the
    fields holding models (alone, in a list or a tuple), worked out once per model."""
    plan = _PLANS.get(model)
    if plan is None:
        assert all(f.default_factory is None for f in model.model_fields.values()), model
        defaults = {name: info.default for name, info in model.model_fields.items()
                    if not info.is_required()}
        nested: dict[str, type[BaseModel]] = {}
        for name, info in model.model_fields.items():
            for arg in (info.annotation, *get_args(info.annotation)):  # X, X | None
                for inner in (arg, *get_args(arg)):  # X, list[X], tuple[X, ...]
                    if (name not in nested and isinstance(inner, type)
                            and issubclass(inner, BaseModel)):
                        nested[name] = inner
        plan = _Plan(defaults, tuple((k, v) for k, v in defaults.items()
                                     if isinstance(v, dict | list | set)),
                     tuple(nested.items()),
                     {info.alias: name for name, info in model.model_fields.items()
                      if info.alias is not None})
        _PLANS[model] = plan
    return plan


def unit_id_of(data: EventData) -> str | None:
    """The ``unit_id`` an event's data names, if its type has one."""
    value = data.__dict__.get("unit_id")
    return value if isinstance(value, str) else None


def dump(data: BaseModel) -> dict[str, Any]:
    """The canonical JSON data of a validated model: absent optional fields left out."""
    return data.model_dump(mode="json", exclude_none=True, by_alias=True)
