"""``decide``: a command and the world → the events to record, or a typed DomainError.

The event asked for comes first, then its consequences (quarantines, a deferral) as derived
events of the same decision. ``keys_needed`` names the aggregates a command reads, so the
writer can load them in one query before deciding a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from app.errors import DomainError, InvalidEventData, UnknownEventType
from app.events import isbt
from app.events.authz import check_role, check_site_scope
from app.events.catalogue import Catalogue
from app.events.decide_custody import (
    excursion_recorded,
    unit_received,
    unit_shipped,
    unit_stored,
)
from app.events.decide_donors import (
    donation_collected,
    donor_deferred,
    donor_registered,
    donor_reinstated,
    site_registered,
)
from app.events.decide_hospital import (
    adverse_reaction,
    reservation_released,
    shipped_for_fractionation,
    unit_discarded,
    unit_issued,
    unit_reserved,
    unit_returned,
    unit_transfused,
)
from app.events.decide_lookback import lookback_acknowledged, lookback_started
from app.events.decide_processing import unit_split, units_pooled
from app.events.decide_testing import (
    lab_result_recorded,
    quarantine_lifted,
    unit_quarantined,
    unit_released,
)
from app.events.decision import Decision
from app.events.lineage import lineage_next
from app.events.messages import Command, Key, NewEvent
from app.events.models import MODELS
from app.events.models_base import EventData
from app.events.state import World

Handler = Callable[[Decision, Any], None]

HANDLERS: Mapping[str, Handler] = {
    "SiteRegistered": site_registered,
    "DonorRegistered": donor_registered,
    "DonorDeferred": donor_deferred,
    "DonorReinstated": donor_reinstated,
    "DonationCollected": donation_collected,
    "UnitSplit": unit_split,
    "UnitsPooled": units_pooled,
    "TestResultRecorded": lab_result_recorded,
    "UnitReleased": unit_released,
    "UnitQuarantined": unit_quarantined,
    "QuarantineLifted": quarantine_lifted,
    "UnitStored": unit_stored,
    "TemperatureExcursionRecorded": excursion_recorded,
    "UnitShipped": unit_shipped,
    "UnitReceived": unit_received,
    "UnitReserved": unit_reserved,
    "ReservationReleased": reservation_released,
    "UnitIssued": unit_issued,
    "UnitReturned": unit_returned,
    "UnitTransfused": unit_transfused,
    "AdverseReactionReported": adverse_reaction,
    "UnitDiscarded": unit_discarded,
    "UnitShippedForFractionation": shipped_for_fractionation,
    "LookbackStarted": lookback_started,
    "LookbackAcknowledged": lookback_acknowledged,
}

__all__ = ["World", "decide", "keys_needed", "lineage_next", "validate"]


def validate(event_type: str, data: Mapping[str, Any]) -> EventData:
    """The command's data as its event's model; a 422 naming the first wrong field."""
    model = MODELS.get(event_type)
    if model is None:
        raise UnknownEventType(f"unknown event type {event_type!r}", field="type")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(["data", *(str(p) for p in first["loc"])])
        raise InvalidEventData(f"{field}: {first['msg']}", field=field) from None


def decide(world: World, cmd: Command, catalogue: Catalogue) -> list[NewEvent]:
    """The events ``cmd`` records (asked-for first, then derived), or a DomainError."""
    handler = HANDLERS.get(cmd.type)
    if handler is None:
        raise UnknownEventType(f"unknown event type {cmd.type!r}", field="type")
    check_role(cmd.actor, cmd.type)
    data = validate(cmd.type, cmd.data)
    check_site_scope(cmd.actor, data.__dict__)
    decision = Decision(world, cmd, catalogue)
    handler(decision, data)
    return decision.events


def keys_needed(cmd: Command) -> list[tuple[Key, bool]]:
    """The aggregates ``decide`` reads for ``cmd``; True means "and its lineage closure".

    Worked out from the raw data without validating it: a malformed field simply names no
    key, and decide then refuses the command.
    """
    data = cmd.data
    keys: list[tuple[Key, bool]] = []

    def add(kind: str, value: Any, deep: bool = False) -> None:
        if isinstance(value, str):
            keys.append(((kind, value), deep))

    def add_unit(value: Any, deep: bool = False) -> None:
        unit_id = _quiet(isbt.parse_unit_id, value)
        if unit_id is not None:
            keys.append((("unit", unit_id), deep))
            keys.append((("donation", isbt.din_of_unit(unit_id)), False))

    for name in ("site_id", "to_site_id", "lab_site_id", "fractionator_site_id"):
        add("site", data.get(name))
    din = _quiet(isbt.parse_din, data.get("din"))
    t = cmd.type
    if t.startswith("Donor"):
        add("donor", data.get("donor_id"))
    elif t == "DonationCollected":
        add("donor", data.get("donor_id"))
        add("donation", din)
        product = _quiet(isbt.parse_product_code, data.get("product_code"))
        if din is not None and product is not None:
            keys.append((("unit", isbt.unit_id_of(din, product)), False))
    elif t == "UnitsPooled":
        add("donation", din)
        for parent in data.get("parent_unit_ids") or ():
            add_unit(parent)
    elif t == "TestResultRecorded":
        reactive = str(data.get("result", "")).lower() == "reactive"
        add("donation", din, deep=reactive)
    elif t == "LookbackStarted":
        add("lookback", data.get("lookback_id"))
        add("donor", data.get("donor_id"), deep=True)
        add("donation", din, deep=True)
    elif t == "LookbackAcknowledged":
        add("lookback", data.get("lookback_id"))
    else:
        add_unit(data.get("unit_id"))
    if t == "UnitSplit":
        _add_components(keys, data)
    return keys


def _add_components(keys: list[tuple[Key, bool]], data: Mapping[str, Any]) -> None:
    """The units a split would create, so their absence is known without another round."""
    unit_id = _quiet(isbt.parse_unit_id, data.get("unit_id"))
    components = data.get("components")
    if unit_id is None or not isinstance(components, list):
        return
    din = isbt.din_of_unit(unit_id)
    for comp in components:
        code = _quiet(isbt.parse_product_code, comp.get("product_code")) if isinstance(
            comp, dict) else None
        if code is not None:
            keys.append((("unit", isbt.unit_id_of(din, code)), False))


def _quiet(parse: Callable[[Any], str], value: Any) -> str | None:
    try:
        return parse(value)
    except DomainError:
        return None
