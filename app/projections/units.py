"""Unit state: one row per unit and per donation holding the domain's own state, plus the
test results, lineage edges, final fates and sites it is read with.

The fold is the domain's: each event goes through ``app.events.registry.evolve`` over a world
made of this model's rows, and every unit, donation or site it changes is written back field
for field, with the unit's view (status, stock) from ``app.events.unit.view_of``. So the read
model and the writer's state cannot drift apart. Stock is not a table of its own: it is the
units with ``in_stock``, served by partial indexes on ``rm_units`` in FEFO order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from app.events.messages import Key, StoredEvent
from app.events.registry import REGISTRY, evolve
from app.events.slices import accounts, donors, patients
from app.events.slices.collection import DonationCollected
from app.events.slices.processing import UnitModified, UnitSplit, UnitsPooled
from app.events.slices.sites import LabServiceAgreed, SamplesDispatched
from app.events.slices.testing import GROUP_MARKERS, TestResultRecorded
from app.events.slices.transfusion import AdverseReactionReported
from app.events.state import DonationState, SiteState, State
from app.events.unit import UnitState, view_of
from app.projections.base import Load, Subscription, WorkingSet, load, unit_ids_in
from app.projections.tables import (
    DONATION_STATE,
    DONATIONS,
    FATES,
    LINEAGE,
    SITES,
    TESTS,
    UNIT_STATE,
    UNITS,
    Row,
    TableSpec,
)


class _RowWorld:
    """The domain's ``World`` over this model's rows: units, donations and sites (donors and
    lookbacks never change a unit or a donation, so they read as absent)."""

    def __init__(self, ws: WorkingSet) -> None:
        self._ws = ws
        self._cache: dict[Key, State | None] = {}

    def get(self, key: Key) -> State | None:
        if key in self._cache:
            return self._cache[key]
        kind, ident = key
        state: State | None = None
        if kind == "unit":
            row = self._ws.get(UNITS, ident)
            state = None if row is None else UNIT_STATE.state_of(row)
        elif kind == "donation":
            row = self._ws.get(DONATIONS, ident)
            state = None if row is None else DONATION_STATE.state_of(row)
        elif kind == "site":
            row = self._ws.get(SITES, ident)
            state = None if row is None else SiteState(
                site_id=row["site_id"], site_kind=row["kind"], name=row["name"],
                region=row["region"], labs=tuple(orjson.loads(row["labs"] or "[]")))
        self._cache[key] = state
        return state

    def changed(self, key: Key, state: State) -> None:
        self._cache[key] = state


_ELSEWHERE = frozenset(t.name for slice_ in (donors, patients, accounts) for t in slice_.TYPES)
"""The types of the slices of donors, patients and accounts: their evolve changes a donor, a
patient or an account, never a unit, a donation or a site (``tests/unit`` holds every one of
them to that over a simulated log)."""


class UnitsProjection:
    """Unit and donation states, tests, lineage, final fates and the site register."""

    name = "units"
    tables: tuple[TableSpec, ...] = (UNITS, DONATIONS, TESTS, LINEAGE, FATES, SITES)
    subscription = Subscription(frozenset(REGISTRY) - _ELSEWHERE)

    def loads(self, events: Sequence[StoredEvent]) -> list[Load]:
        unit_ids: set[str] = set()
        dins: set[str] = set()
        group_dins: set[str] = set()
        sites: set[str] = set()
        for e in events:
            unit_ids.update(unit_ids_in(e))
            data = e.data
            if type(data) is TestResultRecorded:
                dins.add(data.din)
                if data.marker in GROUP_MARKERS or data.marker == "CMV":
                    group_dins.add(data.din)
            elif type(data) is UnitSplit:
                dins.add(data.din or data.unit_id.split("-", 1)[0])
            elif type(data) is UnitModified:
                dins.add(data.unit_id.split("-", 1)[0])
            elif type(data) is LabServiceAgreed:
                sites.add(data.collection_site_id)
            elif type(data) is SamplesDispatched:
                dins.update(data.dins)
        return (load(UNITS, "unit_id", unit_ids) + load(UNITS, "din", group_dins)
                + load(DONATIONS, "din", dins) + load(SITES, "site_id", sites))

    def apply(self, ws: WorkingSet, event: StoredEvent) -> None:
        world = ws.context(_RowWorld)
        for key, state in evolve(world, event).items():
            world.changed(key, state)
            if type(state) is UnitState:
                ws.context(_UnitRows).put(state, event)
            elif type(state) is DonationState:
                _put_donation(ws, state, event)
            elif type(state) is SiteState:
                old = ws.get(SITES, state.site_id)
                ws.put(SITES, {"site_id": state.site_id, "name": state.name,
                               "kind": state.site_kind, "region": state.region,
                               "position": event.position if old is None else old["position"],
                               "labs": orjson.dumps(list(state.labs)).decode()})
        data = event.data
        if type(data) is TestResultRecorded:
            ws.put(TESTS, {"din": data.din, "position": event.position, "marker": data.marker,
                           "test_kind": data.test_kind, "result": data.result,
                           "sample_id": data.sample_id, "assay": data.assay,
                           "kit_lot": data.kit_lot, "lab_site_id": data.lab_site_id,
                           "tested_at": event.occurred_at})
        elif type(data) is UnitSplit:
            for comp in data.components:
                _link(ws, data.unit_id, str(comp.unit_id), "split", event)
        elif type(data) is UnitsPooled:
            for parent in data.parent_unit_ids:
                _link(ws, parent, str(data.unit_id), "pool", event)
        elif type(data) is UnitModified:
            _link(ws, data.unit_id, str(data.new_unit_id), data.modification, event)
        elif type(data) is AdverseReactionReported:
            ws.context(_UnitRows).annotate(data.unit_id, event)


class _UnitRows:
    """The units a batch changes, each row built once when the batch is written back: a unit
    changes at most events of a batch (collected, tested, stored, released, shipped...), and
    its row holds every field of its state as of the last one."""

    def __init__(self, ws: WorkingSet) -> None:
        self._ws = ws
        self._pending: dict[str, tuple[UnitState, Row]] = {}
        """unit id → its latest state and the row's other columns"""
        ws.before_write(self._flush)

    def put(self, unit: UnitState, e: StoredEvent) -> None:
        pending = self._pending.get(unit.unit_id)
        if pending is not None:
            before, extra = pending
            fate_before = before.fate
        else:
            old = self._ws.get(UNITS, unit.unit_id)
            extra = {"adverse_reactions": 0 if old is None else old["adverse_reactions"],
                     "created_position": e.position if old is None else old["created_position"]}
            fate_before = None if old is None else old["fate"]
        extra["last_position"], extra["updated_at"] = e.position, e.occurred_at
        self._pending[unit.unit_id] = (unit, extra)
        if unit.fate is not None and fate_before is None:
            _record_fate(self._ws, unit, e)

    def annotate(self, unit_id: str, e: StoredEvent) -> None:
        """A reaction report: counted on the unit, whose state it does not change."""
        pending = self._pending.get(unit_id)
        if pending is not None:
            extra = pending[1]
            extra.update(adverse_reactions=extra["adverse_reactions"] + 1,
                         last_position=e.position, updated_at=e.occurred_at)
            return
        row = self._ws.get(UNITS, unit_id)
        if row is not None:
            self._ws.put(UNITS, {**row, "adverse_reactions": row["adverse_reactions"] + 1,
                                 "last_position": e.position, "updated_at": e.occurred_at})

    def _flush(self) -> None:
        for unit, extra in self._pending.values():
            view = view_of(unit)
            self._ws.put(UNITS, {
                **UNIT_STATE.row_of(unit), "status": view.status, "in_stock": view.in_stock,
                "quarantined": view.quarantined, "quarantine_reason": view.quarantine_reason,
                "in_transit_from": view.in_transit_from, "fate_site_id": view.fate_site_id,
                **extra,
            })
        self._pending.clear()


def _put_donation(ws: WorkingSet, donation: DonationState, e: StoredEvent) -> None:
    old = ws.get(DONATIONS, donation.din)
    product: dict[str, Any] = {"product_code": None, "category": None, "volume_ml": None,
                               "position": e.position}
    if old is not None:
        product = {k: old[k] for k in product}
    data = e.data
    if isinstance(data, DonationCollected | UnitsPooled) and data.din == donation.din:
        product = {"product_code": data.product_code, "category": data.category,
                   "volume_ml": data.volume_ml, "position": e.position}
    ws.put(DONATIONS, {**DONATION_STATE.row_of(donation), **product})


def _link(ws: WorkingSet, parent_id: str, child_id: str, kind: str, e: StoredEvent) -> None:
    ws.put(LINEAGE, {"parent_unit_id": parent_id, "child_unit_id": child_id, "kind": kind,
                     "position": e.position})


def _record_fate(ws: WorkingSet, unit: UnitState, e: StoredEvent) -> None:
    ws.put(FATES, {
        "position": e.position, "unit_id": unit.unit_id, "fate": unit.fate,
        "reason": unit.fate_reason, "site_id": unit.custodian_site_id,
        "category": unit.category, "abo": unit.abo, "rhd": unit.rhd,
        "actor_key": e.actor.key_id, "actor_role": e.actor.role,
        "actor_site_id": e.actor.site_id, "occurred_at": e.occurred_at,
        "recorded_at": e.recorded_at,
    })
