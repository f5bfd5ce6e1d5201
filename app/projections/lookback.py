"""Lookback: each lookback's scope, the units it found, and which of them are acknowledged.

The domain enriches ``LookbackStarted`` with the units found (custodian or recipient), so this
model needs no other model's tables. Open items are the units not yet acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.events.messages import StoredEvent
from app.projections.base import Load, WorkingSet
from app.projections.tables import LOOKBACK_UNITS, LOOKBACKS, TableSpec


class LookbackProjection:
    """Lookbacks, their units and hospital acknowledgements."""

    name = "lookback"
    tables: tuple[TableSpec, ...] = (LOOKBACKS, LOOKBACK_UNITS)

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        acks = [(str(e.data["lookback_id"]), str(e.data["unit_id"])) for e in events
                if e.type == "LookbackAcknowledged"]
        if not acks:
            return []
        ids = sorted({a for a, _ in acks})
        return [
            Load(LOOKBACKS, "lookback_id = ANY($1::text[])", (ids,)),
            Load(LOOKBACK_UNITS,
                 "(lookback_id, unit_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
                 ([a for a, _ in acks], [u for _, u in acks])),
        ]

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        if event.type == "LookbackStarted":
            _started(ws, event)
        elif event.type == "LookbackAcknowledged":
            _acknowledged(ws, event)


def _started(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    lookback_id = str(d["lookback_id"])
    units = [u for u in d.get("units", []) if isinstance(u, dict) and "unit_id" in u]
    for u in units:
        ws.put(LOOKBACK_UNITS, {
            "lookback_id": lookback_id, "unit_id": u["unit_id"], "status": u.get("status"),
            "custodian_site_id": u.get("custodian_site_id"), "patient_id": u.get("patient_id"),
            "acknowledged_at": None, "acknowledged_site_id": None, "ack_position": None,
        })
    ws.put(LOOKBACKS, {
        "lookback_id": lookback_id, "donor_id": d.get("donor_id"), "din": d.get("din"),
        "marker": d.get("marker"), "since": None if d.get("since") is None else str(d["since"]),
        "started_at": e.occurred_at, "site_id": e.actor.site_id, "actor_key": e.actor.key_id,
        "position": e.position, "unit_count": len({u["unit_id"] for u in units}),
        "acknowledged_count": 0,
    })


def _acknowledged(ws: WorkingSet, e: StoredEvent) -> None:
    d = e.data
    lookback_id, unit_id = str(d["lookback_id"]), str(d["unit_id"])
    item = ws.get(LOOKBACK_UNITS, lookback_id, unit_id)
    if item is None or item["ack_position"] is not None:
        return  # unknown item, or a repeated acknowledgement: the first one stands
    item = dict(item)
    item.update(acknowledged_at=e.occurred_at, acknowledged_site_id=d.get("site_id"),
                ack_position=e.position)
    ws.put(LOOKBACK_UNITS, item)
    head = ws.get(LOOKBACKS, lookback_id)
    if head is not None:
        head = dict(head)
        head["acknowledged_count"] += 1
        ws.put(LOOKBACKS, head)
