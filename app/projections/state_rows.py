"""Domain states stored field for field in read-model rows, and read back.

The unit read model keeps each unit's ``UnitState`` (and each donation's ``DonationState``) in
its columns, so a projection can fold an event with the domain's own ``evolve`` and the row
can never say something the writer's state does not. ``StateColumns`` derives the columns
from the state model's fields and converts in both directions; a unit test round-trips every
field.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar, Union, get_args, get_origin

import orjson
from pydantic import BaseModel, TypeAdapter

from app.events.payload import instance

S = TypeVar("S", bound=BaseModel)
Row = dict[str, Any]

_SCALARS: Mapping[type, str] = {str: "text", int: "integer", bool: "boolean",
                                datetime: "timestamptz"}


def _pg_type(annotation: Any) -> str:
    """The column type of a state field: scalars as themselves, anything else (tuples,
    mappings, nested models) as jsonb, which bulk upserts through ``unnest`` can carry (a
    ``text[]`` column cannot: ``unnest`` flattens an array of arrays)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return _pg_type(inner[0]) if len(inner) == 1 else "jsonb"
    if origin is Literal:
        return "text"
    if isinstance(annotation, type) and annotation in _SCALARS:
        return _SCALARS[annotation]
    return "jsonb"


def _plain(value: Any) -> Any:
    """orjson's hook for what it does not know: a nested state model, as its fields."""
    if isinstance(value, BaseModel):
        return value.__dict__
    raise TypeError(f"cannot store {type(value).__name__}")


class StateColumns(Generic[S]):
    """The columns holding one state model, and the conversions."""

    def __init__(self, model: type[S]) -> None:
        self.model = model
        self.columns: tuple[tuple[str, str], ...] = tuple(
            (name, _pg_type(f.annotation)) for name, f in model.model_fields.items())
        self._fields = set(model.model_fields)
        self._json: dict[str, TypeAdapter[Any]] = {
            n: TypeAdapter(model.model_fields[n].annotation or Any)
            for n, t in self.columns if t == "jsonb"}

    def row_of(self, state: S) -> Row:
        """The state's fields as column values (structures as JSON text)."""
        row: Row = dict(state.__dict__)
        for name in self._json:
            row[name] = orjson.dumps(row[name], default=_plain,
                                     option=orjson.OPT_SORT_KEYS).decode()
        return row

    def state_of(self, row: Mapping[str, Any]) -> S:
        """The state a row holds (trusted: only ``row_of`` wrote it)."""
        values = {name: row[name] for name, _ in self.columns}
        for name, adapter in self._json.items():
            value = values[name]
            if value is not None:
                values[name] = adapter.validate_python(
                    orjson.loads(value) if isinstance(value, str) else value)
        return instance(self.model, values, self._fields)
