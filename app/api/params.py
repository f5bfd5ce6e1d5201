"""Shared shapes of path and query parameters. The patterns are published in the OpenAPI
document and keep text the database cannot hold (such as U+0000) out of every query."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import Path, Query, Request

from app.errors import InvalidInput
from app.log.record import parse_time

IDENT: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
"""Site, key, lookback and shipment ids (the domain's ``Ident``)."""
PSEUDONYM: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,63}$"
DIN: Final = r"^=?[A-Za-z1-9][A-Za-z0-9]{4}[0-9]{8}[0-9A-Za-z*]?[0-9A-Za-z]?$"
UNIT_ID: Final = (r"^=?[A-Za-z1-9][A-Za-z0-9]{4}[0-9]{8}[0-9A-Za-z*]?[0-9A-Za-z]?"
                  r"-[A-Za-z][0-9]{4}[0-9A-Za-z]{3}$")
PRODUCT_CODE: Final = r"^[A-Za-z][0-9]{4}[0-9A-Za-z]{3}$"
EVENT_TYPE: Final = r"^[A-Za-z]{1,64}$"
CODE: Final = r"^[a-z_]{1,32}$"
ABO: Final = r"^([OABoab0]|[Aa][Bb]|[0-9]{2})$"
RHD: Final = r"^(POS|NEG|pos|neg|Pos|Neg|\+|-|[0-9]{2})$"

RFC3339: Final = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
                  r"([Zz]|[+-][0-9]{2}:[0-9]{2})$")
FromQuery = Annotated[str | None, Query(
    alias="from", pattern=RFC3339, examples=["2026-01-01T00:00:00Z"],
    description="inclusive, RFC 3339 with a zone")]
ToQuery = Annotated[str | None, Query(
    pattern=RFC3339, examples=["2026-02-01T00:00:00Z"],
    description="exclusive, RFC 3339 with a zone")]


def time_window(from_: str | None, to: str | None) -> tuple[datetime | None, datetime | None]:
    """The parsed ``from``/``to`` query times; 422 naming the one that is not a time."""
    parsed: list[datetime | None] = []
    for name, text in (("from", from_), ("to", to)):
        try:
            parsed.append(None if text is None else parse_time(text))
        except (ValueError, OverflowError):
            raise InvalidInput(f"{name}: {text!r} is not an RFC 3339 time", field=name) from None
    start, end = parsed
    if start is not None and end is not None and end < start:
        raise InvalidInput("`to` is before `from`", field="to")
    return start, end


UnitIdPath = Annotated[str, Path(
    pattern=UNIT_ID, examples=["A999926123456-E0398V00"],
    description="DIN (bare, with check character or barcode form) + '-' + product code",
)]
DinPath = Annotated[str, Path(
    pattern=DIN, examples=["A999926123456"],
    description="the DIN bare (13), with its check character (14) or in barcode form "
                "('=' + DIN + 2 flags)",
)]
IdentPath = Annotated[str, Path(pattern=IDENT, examples=["LB-7Q2K9X"])]
StreamRefPath = Annotated[str, Path(
    pattern=r"^=?[A-Za-z0-9][A-Za-z0-9._:*-]{0,63}$", examples=["A999926123456-E0398V00"],
    description="a unit id as the log refers to it")]
PatientPath = Annotated[str, Path(pattern=PSEUDONYM, examples=["PAT-4F2K9Q"],
                                  description="a patient pseudonym")]
SiteQuery = Annotated[str | None, Query(
    pattern=IDENT, description="a site id; site keys may only give their own")]
IdentQuery = Annotated[str | None, Query(pattern=IDENT)]
EventTypeQuery = Annotated[str | None, Query(pattern=EVENT_TYPE, examples=["UnitDiscarded"])]
CodeQuery = Annotated[str | None, Query(pattern=CODE, examples=["expired"])]
AboQuery = Annotated[str | None, Query(
    pattern=ABO, description="O, A, B, AB (any case) or an ISBT 128 group code")]
RhdQuery = Annotated[str | None, Query(
    pattern=RHD, description="POS, NEG, +, - or an ISBT 128 group code")]
ProductCodeQuery = Annotated[str | None, Query(
    pattern=PRODUCT_CODE, examples=["E0400V00"],
    description="an ISBT 128 product code: a modified product has its own")]
AttributeQuery = Annotated[str | None, Query(
    pattern=CODE, examples=["irradiated"],
    description="an attribute the unit must carry (irradiated, washed, cmv_negative...)")]
UnitCursorQuery = Annotated[str | None, Query(
    pattern=UNIT_ID, description="`next_after` of the previous page (a unit id)")]


def _query_names(dependant: Any) -> frozenset[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return frozenset(names)


async def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters a route does not declare (a typo such as ``?sitee=`` would
    otherwise silently widen a search)."""
    if not request.scope.get("query_string"):  # most requests: nothing to parse
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or not request.query_params:
        return
    known = _KNOWN.get(id(route))
    if known is None:
        known = _KNOWN[id(route)] = _query_names(dependant)
    for name in request.query_params:
        if name not in known:
            raise InvalidInput(f"unknown query parameter {name!r}"
                               + (f"; expected one of {sorted(known)}" if known else ""),
                               field=name)


_KNOWN: dict[int, frozenset[str]] = {}
