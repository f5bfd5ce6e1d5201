"""Audit: the steps recorded late, each with the reason its envelope gave (RULES §1)."""

from __future__ import annotations

from collections.abc import Sequence

from app.events.messages import StoredEvent
from app.projections.base import Load, Subscription, WorkingSet
from app.projections.tables import LATE_ENTRIES, TableSpec


class AuditProjection:
    """Late entries; the views of issue and transfusion audits join it."""

    name = "audit"
    tables: tuple[TableSpec, ...] = (LATE_ENTRIES,)
    subscription = Subscription(frozenset(), late=True)

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        return []

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        if event.late_entry_reason is None:
            return
        ws.put(LATE_ENTRIES, {
            "position": event.position, "event_id": event.event_id, "type": event.type,
            "stream": event.stream, "occurred_at": event.occurred_at,
            "recorded_at": event.recorded_at, "reason": event.late_entry_reason,
            "actor_key": event.actor.key_id, "actor_role": event.actor.role,
            "actor_site_id": event.actor.site_id,
        })
