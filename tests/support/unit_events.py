"""Builders of ``StoredEvent`` for the read-model integration tests that reconcile against a
ledger of their own (``unit_sim``): the shape the writer hands to projections, with the
domain's enrichments (unit ids, expiries, groups) filled in by hand, each validated against
its type's model. Unit tests of the projections build their events through decide instead
(``tests/support/scene.py``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from app.events.messages import Actor, StoredEvent
from app.events.payload import dump
from app.events.registry import validate
from app.log.record import format_time

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Log:
    """Hands out positions and times; ``add`` returns the event it made."""

    def __init__(self, start: datetime = T0) -> None:
        self.position = 0
        self.now = start
        self.events: list[StoredEvent] = []

    def add(self, type: str, data: dict[str, Any], *, site: str | None = "BB1",
            key: str | None = None, role: str = "inventory", minutes: int = 10) -> StoredEvent:
        self.position += 1
        self.now += timedelta(minutes=minutes)
        event = StoredEvent(
            position=self.position, event_id=uuid.uuid4(), stream=str(data.get("unit_id", type)),
            stream_version=1, type=type, schema_version=1, data=validate(type, data),
            occurred_at=self.now,
            recorded_at=self.now, actor=Actor(key or f"key-{site}", role, site),
            record=b"{}", leaf_hash=bytes(32), chain_hash=bytes(32),
        )
        self.events.append(event)
        return event

    def iso(self, hours: float) -> str:
        return format_time(self.now + timedelta(hours=hours))

    def collect(self, din: str, site: str = "BB1", donor: str = "D1",
                product_code: str = "E0001V00", category: str = "whole_blood",
                hours: float = 35 * 24) -> str:
        unit_id = f"{din}-{product_code}"
        self.add("DonationCollected", {
            "din": din, "donor_id": donor, "site_id": site, "collection_type": "whole_blood",
            "product_code": product_code, "category": category, "volume_ml": 450,
            "unit_id": unit_id, "expires_at": self.iso(hours),
        }, site=site, role="collector")
        return unit_id

    def split(self, unit_id: str, codes: list[tuple[str, str, float]],
              site: str = "BB1") -> list[str]:
        din = unit_id.split("-", 1)[0]
        comps = [{"product_code": pc, "category": cat, "volume_ml": 200,
                  "unit_id": f"{din}-{pc}", "expires_at": self.iso(h)} for pc, cat, h in codes]
        self.add("UnitSplit", {"unit_id": unit_id, "din": din, "components": comps},
                 site=site, role="processing")
        return [c["unit_id"] for c in comps]

    def group(self, din: str, abo: str = "O", rhd: str = "POS", lab: str = "LAB1") -> None:
        for marker in ("HIV", "HBV", "HCV", "SYPHILIS"):
            self.add("TestResultRecorded", {"din": din, "marker": marker,
                                            "result": "non_reactive", "lab_site_id": lab},
                     site=lab, role="lab")
        self.add("TestResultRecorded", {"din": din, "marker": "ABO", "result": abo,
                                        "lab_site_id": lab}, site=lab, role="lab")
        self.add("TestResultRecorded", {"din": din, "marker": "RHD", "result": rhd,
                                        "lab_site_id": lab}, site=lab, role="lab")


async def append_raw(con: Any, events: list[StoredEvent]) -> list[StoredEvent]:
    """Write events straight into the log tables (no domain, no writer) and apply them inline,
    as the writer would in one transaction. For read-model tests that need a log to replay;
    ``con`` must be the database owner. Returns the events as stored (real record bytes)."""
    from app.log.record import build_record, chain_hash, leaf_hash
    from app.store.projection_runner import apply_inline

    async with con.transaction():
        head = await con.fetchrow(
            "SELECT position, chain_hash FROM log_head WHERE id = 1 FOR UPDATE")
        chain = head["chain_hash"]
        stored = []
        for i, e in enumerate(events, head["position"] + 1):
            record = build_record(
                position=i, event_id=str(e.event_id), stream=e.stream, stream_version=i,
                type=e.type, schema_version=1, data=dump(e.data), occurred_at=e.occurred_at,
                recorded_at=e.recorded_at, actor=e.actor.as_record())
            leaf = leaf_hash(record)
            chain = chain_hash(chain, leaf)
            stored.append(StoredEvent(
                position=i, event_id=e.event_id, stream=e.stream, stream_version=i, type=e.type,
                schema_version=1, data=e.data, occurred_at=e.occurred_at,
                recorded_at=e.recorded_at, actor=e.actor, record=record, leaf_hash=leaf,
                chain_hash=chain))
        await con.copy_records_to_table("events", records=[(
            s.position, s.event_id, f"raw:{s.position}", 1, s.type, 1, s.record, s.leaf_hash,
            s.chain_hash, bytes(32), s.occurred_at, s.recorded_at, s.actor.key_id, s.actor.role,
            s.actor.site_id) for s in stored], columns=(
            "position", "event_id", "stream", "stream_version", "type", "schema_version",
            "record", "leaf_hash", "chain_hash", "content_hash", "occurred_at", "recorded_at",
            "actor_key", "actor_role", "actor_site"))
        refs = {(kind, ref, s.position) for s in stored for kind, ref in _refs(s)}
        if refs:
            await con.copy_records_to_table("event_refs", records=sorted(refs),
                                            columns=("kind", "ref", "position"))
        await con.execute("UPDATE log_head SET position = $1, chain_hash = $2 WHERE id = 1",
                          stored[-1].position, chain)
        await apply_inline(con, stored)
    return stored


def _refs(e: StoredEvent) -> list[tuple[str, str]]:
    d = dump(e.data)
    out = [("unit", u) for u in (d.get("unit_id"), *d.get("parent_unit_ids", []),
                                 *(c.get("unit_id") for c in d.get("components", [])))
           if isinstance(u, str)]
    if isinstance(d.get("din"), str):
        out.append(("donation", d["din"]))
    return out
