"""Annotated field types shared by the event models: identifiers, groups, times, volumes.

Each type normalises to the stored spelling (DIN bare, times RFC 3339 UTC) and raises the
rule's own ``InvalidInput`` subclass, which pydantic lets through untouched, so the client
learns the exact rule and field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from pydantic import (
    BeforeValidator,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
)

from app.errors import InvalidEventData, NotPseudonymous
from app.events import isbt
from app.events.payload import is_stored
from app.log.record import format_time, parse_time

_PSEUDONYM_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{2,63}")
_NATIONAL_ID_LIKE: Final = re.compile(r"[0-9]{6,}")


def _path(info: ValidationInfo) -> str:
    return f"data.{info.field_name}" if info.field_name else "data"


def _din(value: Any, info: ValidationInfo) -> str:
    if is_stored(info):
        return str(value)
    return isbt.parse_din(value, _path(info))


def _product_code(value: Any, info: ValidationInfo) -> str:
    if is_stored(info):
        return str(value)
    return isbt.parse_product_code(value, _path(info))


def _unit_id(value: Any, info: ValidationInfo) -> str:
    if is_stored(info):
        return str(value)
    return isbt.parse_unit_id(value, _path(info))


def _abo(value: Any, info: ValidationInfo) -> str:
    if is_stored(info):
        return str(value)
    return isbt.parse_abo(value, _path(info))


def _rhd(value: Any, info: ValidationInfo) -> str:
    if is_stored(info):
        return str(value)
    return isbt.parse_rhd(value, _path(info))


def _pseudonym(value: Any, info: ValidationInfo) -> str:
    if is_stored(info):
        return str(value)
    # A pseudonym has no spaces and no letters outside ASCII, so a personal name (in Arabic or
    # in Latin script) cannot pass; a long run of bare digits looks like a national id number.
    if not isinstance(value, str) or not _PSEUDONYM_RE.fullmatch(value):
        raise NotPseudonymous(
            f"{_path(info)} must be a pseudonym: 3-64 ASCII letters, digits or . _ : -, "
            "no spaces", field=_path(info),
        )
    if _NATIONAL_ID_LIKE.fullmatch(value):
        raise NotPseudonymous(
            f"{_path(info)} looks like a national id number; send the pseudonym instead",
            field=_path(info),
        )
    return value


def _timestamp(value: Any, info: ValidationInfo) -> str:
    """RFC 3339 with a zone, or a bare date (midnight UTC); stored as ``format_time``."""
    if is_stored(info):
        return str(value)
    if isinstance(value, str):
        try:
            if len(value) == 10:
                day = date.fromisoformat(value)
                return format_time(datetime(day.year, day.month, day.day, tzinfo=UTC))
            return format_time(parse_time(value))
        except (ValueError, OverflowError):  # year 1 with an offset overflows in UTC
            pass
    raise InvalidEventData(
        f"{_path(info)}: {value!r} is not an RFC 3339 timestamp with a zone or a date",
        field=_path(info),
    )


_DIN_IN = r"^=?[A-Za-z1-9][A-Za-z0-9]{4}[0-9]{8}[0-9A-Za-z*]?[0-9A-Za-z]?$"
Din = Annotated[str, BeforeValidator(_din), WithJsonSchema({
    "type": "string", "pattern": _DIN_IN,
    "description": "ISBT 128 DIN: 13 characters bare, 14 with the Mod 37-2 check character, "
                   "or the barcode form '=' + DIN + 2 flags; stored bare",
    "examples": ["A999926123456"],
})]
ProductCode = Annotated[str, BeforeValidator(_product_code), WithJsonSchema({
    "type": "string", "pattern": r"^[A-Z][0-9]{4}[0-9A-Za-z][A-Z0][a-z0]$",
    "description": "ISBT 128 product code: description code, type of donation, division",
    "examples": ["E0398V00"],
})]
UnitId = Annotated[str, BeforeValidator(_unit_id), WithJsonSchema({
    "type": "string", "description": "DIN + '-' + product code", "examples": [
        "A999926123456-E0398V00"],
})]
AboGroup = Annotated[str, BeforeValidator(_abo), WithJsonSchema({
    "type": "string", "description": "O, A, B or AB (any case) or an ISBT 128 group code; "
                                     "stored as O, A, B or AB", "examples": ["O", "AB"],
})]
RhdType = Annotated[str, BeforeValidator(_rhd), WithJsonSchema({
    "type": "string", "description": "POS/NEG, +/-, positive/negative or an ISBT 128 group "
                                     "code; stored as POS or NEG", "examples": ["NEG"],
})]
Pseudonym = Annotated[str, BeforeValidator(_pseudonym), WithJsonSchema({
    "type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$",
    "description": "a pseudonym, never a name or a national id", "examples": ["DNR-7QX2K9"],
})]
Timestamp = Annotated[str, BeforeValidator(_timestamp), WithJsonSchema({
    "type": "string", "description": "RFC 3339 with a zone, or a date (midnight UTC); "
                                     "stored as RFC 3339 UTC", "examples": [
        "2026-11-20T09:30:00Z"],
})]
Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
"""Site, shipment, lookback and physician ids: short ASCII tokens."""
Text = Annotated[str, StringConstraints(min_length=1, max_length=500)]
"""Free text (reasons, names, locations): UTF-8, never empty."""
Marker = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str)
                    and not isbt.folds_into_ascii(v) else v),
    StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{0,31}$"),
]
"""A test marker such as HIV or SYPHILIS; any case in, upper case stored."""
VolumeMl = Annotated[StrictInt, Field(gt=0, le=5000)]
TempDc = Annotated[StrictInt, Field(ge=-1000, le=1000)]
