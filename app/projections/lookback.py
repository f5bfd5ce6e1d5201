"""Lookback: each lookback's scope and deadline, the units it found, which of them are
acknowledged and whose recipients notified, and its closure.

The domain enriches ``LookbackStarted`` with the units found (custodian or recipient), so this
model needs no other model's tables. Open items are the units not yet acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.events.messages import StoredEvent
from app.events.slices.lookback import (
    LookbackAcknowledged,
    LookbackClosed,
    LookbackRecipientNotified,
    LookbackStarted,
)
from app.projections.base import Load, Subscription, WorkingSet, types_of, when
from app.projections.tables import LOOKBACK_UNITS, LOOKBACKS, TableSpec


class LookbackProjection:
    """Lookbacks, their units and hospital acknowledgements."""

    name = "lookback"
    tables: tuple[TableSpec, ...] = (LOOKBACKS, LOOKBACK_UNITS)
    subscription = Subscription(types_of(LookbackStarted, LookbackAcknowledged,
                                         LookbackRecipientNotified, LookbackClosed))

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        items = sorted({(e.data.lookback_id, e.data.unit_id) for e in events
                        if isinstance(e.data, LookbackAcknowledged | LookbackRecipientNotified)})
        heads = sorted({(e.data.lookback_id,) for e in events if isinstance(
            e.data, LookbackAcknowledged | LookbackRecipientNotified | LookbackClosed)})
        loads = [Load(LOOKBACKS, ("lookback_id",), tuple(heads))] if heads else []
        if items:
            loads.append(Load(LOOKBACK_UNITS, ("lookback_id", "unit_id"), tuple(items)))
        return loads

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        data = event.data
        if type(data) is LookbackStarted:
            _started(ws, event, data)
        elif type(data) is LookbackAcknowledged:
            _acknowledged(ws, event, data)
        elif type(data) is LookbackRecipientNotified:
            item = ws.get(LOOKBACK_UNITS, data.lookback_id, data.unit_id)
            if item is not None and item["notified_position"] is None:
                ws.put(LOOKBACK_UNITS, {**item, "notified_at": event.occurred_at,
                                        "notified_position": event.position})
        elif type(data) is LookbackClosed:
            head = ws.get(LOOKBACKS, data.lookback_id)
            if head is not None:
                ws.put(LOOKBACKS, {**head, "closed_at": event.occurred_at,
                                   "outcome": data.outcome, "note": data.note})


def _started(ws: WorkingSet, e: StoredEvent, d: LookbackStarted) -> None:
    units = d.units or []
    for u in units:
        ws.put(LOOKBACK_UNITS, {
            "lookback_id": d.lookback_id, "unit_id": u.unit_id, "status": u.status,
            "custodian_site_id": u.custodian_site_id, "patient_id": u.patient_id,
            "acknowledged_at": None, "acknowledged_site_id": None, "ack_position": None,
            "notified_at": None, "notified_position": None,
        })
    ws.put(LOOKBACKS, {
        "lookback_id": d.lookback_id, "donor_id": d.donor_id, "din": d.din,
        "marker": d.marker, "since": d.since, "started_at": e.occurred_at,
        "site_id": e.actor.site_id, "actor_key": e.actor.key_id, "position": e.position,
        "unit_count": len({u.unit_id for u in units}), "acknowledged_count": 0,
        "deadline": when(d.deadline), "closed_at": None, "outcome": None, "note": None,
    })


def _acknowledged(ws: WorkingSet, e: StoredEvent, d: LookbackAcknowledged) -> None:
    item = ws.get(LOOKBACK_UNITS, d.lookback_id, d.unit_id)
    if item is None or item["ack_position"] is not None:
        return  # unknown item, or a repeated acknowledgement: the first one stands
    item = dict(item)
    item.update(acknowledged_at=e.occurred_at, acknowledged_site_id=d.site_id,
                ack_position=e.position)
    ws.put(LOOKBACK_UNITS, item)
    head = ws.get(LOOKBACKS, d.lookback_id)
    if head is not None:
        head = dict(head)
        head["acknowledged_count"] += 1
        ws.put(LOOKBACKS, head)
