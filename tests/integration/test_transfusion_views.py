"""The transfusion-safety read models on real PostgreSQL: haemovigilance counts (a free-text
reaction type of an old record counted as ``uncoded``), emergency issues and their follow-up
crossmatch, overrides; each fold's rows rebuilt from the log equal the live ones, and equal
an in-memory fold of the same events in batches of any size.

Every event but the old record is decided by the domain (``Scene``) and stored as the writer
would.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from app.events.catalogue import default_catalogue
from app.events.messages import Actor, StoredEvent
from app.events.registry import decode
from app.store import read_queries as q
from app.store.rebuild import rebuild, tables_digest
from tests.support.scene import PLASMA, PLATELETS, RED_CELLS, Scene, actor, scene
from tests.support.unit_events import append_raw
from tests.unit.projection_fold import fold

SERIOUS = default_catalogue().patients.serious_severities
H1, H2 = actor("hospital", "H1"), actor("hospital", "H2")
WHY = {"justification": "massive haemorrhage", "physician_id": "DR-7"}


@pytest.fixture
async def con(fresh_db: str):  # type: ignore[no-untyped-def]
    c = await asyncpg.connect(fresh_db)
    yield c
    await c.close()


def _issue(s: Scene, unit: str, patient: str, by: Actor = H1, **extra: Any) -> None:
    s.do("UnitIssued", {"unit_id": unit, "patient_id": patient, **extra}, by)


def _react(s: Scene, unit: str, patient: str, kind: str, severity: str, imputability: str,
           by: Actor = H1) -> None:
    s.do("AdverseReactionReported", {"unit_id": unit, "patient_id": patient,
                                     "reaction_type": kind, "severity": severity,
                                     "imputability": imputability}, by)


def _platelets(s: Scene, rhd: str) -> str:
    """Released platelets of group O ``rhd`` received by H1."""
    parent = s.collect()
    _red, _plasma, plt = s.split(parent, [(RED_CELLS, "red_cells", 250),
                                          (PLASMA, "plasma", 150),
                                          (PLATELETS, "platelets", 50)])
    number = parent.split("-")[0]
    s.test_all(number, "O", rhd)
    s.do("TestResultRecorded", {"din": number, "marker": "BACTERIA", "result": "non_reactive",
                                "lab_site_id": "LAB1"}, actor("lab", "LAB1"))
    s.release(plt)
    s.receive(plt, s.ship(plt, "H1"), "H1")
    return plt


class World:
    """What the scene did, for the assertions."""

    def __init__(self) -> None:
        s = self.s = scene()
        # A plain transfusion at H1 with a non-severe reaction reported after it.
        self.plain = s.released_component()
        s.reserve(self.plain, "PAT-A")
        s.issue(self.plain, "PAT-A")
        s.transfuse(self.plain, "PAT-A")
        _react(s, self.plain, "PAT-A", "fnhtr", "non_severe", "possible")
        # A TRALI during the transfusion, which is then stopped: serious.
        self.stopped = s.released_component()
        s.reserve(self.stopped, "PAT-B")
        s.issue(self.stopped, "PAT-B")
        s.start(self.stopped, "PAT-B")
        _react(s, self.stopped, "PAT-B", "trali", "life_threatening", "likely")
        s.do("UnitTransfused", {"unit_id": self.stopped, "patient_id": "PAT-B",
                                "volume_ml": 60, "stopped_reason": "reaction"}, H1)
        # Completed 5 h after issue, with its reason.
        self.late = s.released_component()
        s.reserve(self.late, "PAT-C")
        s.issue(self.late, "PAT-C")
        s.start(self.late, "PAT-C")
        s.later(hours=5)
        s.do("UnitTransfused", {"unit_id": self.late, "patient_id": "PAT-C",
                                "late_completion_reason": "slow rate ordered"}, H1)
        # Emergency issues: one never crossmatched, one crossmatched incompatible, one
        # compatible in time, one crossmatched late, one returned unused, one reserved first.
        self.never = s.released_component()
        _issue(s, self.never, "PAT-E1", emergency=True, **WHY)
        self.bad = s.released_component()
        _issue(s, self.bad, "PAT-E2", emergency=True, **WHY)
        s.reserve(self.bad, "PAT-E2", crossmatch="incompatible")
        self.good = s.released_component()
        _issue(s, self.good, "PAT-E3", emergency=True, **WHY)
        s.start(self.good, "PAT-E3")
        s.reserve(self.good, "PAT-E3")
        self.slow = s.released_component()
        _issue(s, self.slow, "PAT-E4", emergency=True, **WHY)
        self.back = s.released_component()
        _issue(s, self.back, "PAT-E5", emergency=True, **WHY)
        s.do("UnitReturned", {"unit_id": self.back, "reason": "not needed"}, H1)
        self.first = s.released_component()
        s.reserve(self.first, "PAT-E6")
        _issue(s, self.first, "PAT-E6", emergency=True, **WHY)
        self.issued_at = s.now
        s.later(hours=30)
        s.reserve(self.slow, "PAT-E4")
        # RhD-positive platelets to an RhD-negative patient, with anti-D; RhD-negative
        # platelets with an override reason, which is not an RhD override.
        self.pos = _platelets(s, "POS")
        s.reserve(self.pos, "PAT-D", rhd="NEG")
        _issue(s, self.pos, "PAT-D", anti_d_prophylaxis=True)
        self.neg = _platelets(s, "NEG")
        s.reserve(self.neg, "PAT-D", rhd="NEG")
        _issue(s, self.neg, "PAT-D", override_reason="habit")
        # H2 transfuses its own patient and reports an allergic reaction.
        self.h2 = s.released_component(at_site="H2")
        s.reserve(self.h2, "PAT-H2", site="H2")
        s.issue(self.h2, "PAT-H2", site="H2")
        s.transfuse(self.h2, "PAT-H2", site="H2")
        _react(s, self.h2, "PAT-H2", "allergic", "non_severe", "certain", by=H2)
        self.now = s.now


def legacy_reaction(unit_id: str, at: Any, text: str = "FNHTR") -> StoredEvent:
    """A v1 record: the reaction type free text, decoded as stored (never re-validated)."""
    data = decode("AdverseReactionReported", {
        "unit_id": unit_id, "patient_id": "PAT-A", "reaction_type": text,
        "severity": "severe", "imputability": "possible"})
    return StoredEvent(
        position=0, event_id=uuid.uuid4(), stream=f"unit:{unit_id}", stream_version=1,
        type="AdverseReactionReported", schema_version=1, data=data, occurred_at=at,
        recorded_at=at, actor=H1, record=b"{}", leaf_hash=bytes(32), chain_hash=bytes(32))


async def _stored(con: asyncpg.Connection) -> World:
    w = World()
    await append_raw(con, w.s.stored())
    return w


async def test_haemovigilance_counts_by_type_severity_and_imputability(
        con: asyncpg.Connection) -> None:
    w = await _stored(con)
    await append_raw(con, [legacy_reaction(w.plain, w.now + timedelta(minutes=1))])
    report = await q.haemovigilance(con, None, None, None, SERIOUS)
    assert report["units_transfused"] == 4
    assert report["reactions_reported"] == 4
    assert report["counts"] == [
        {"reaction_type": "allergic", "severity": "non_severe", "imputability": "certain",
         "count": 1},
        {"reaction_type": "fnhtr", "severity": "non_severe", "imputability": "possible",
         "count": 1},
        {"reaction_type": "trali", "severity": "life_threatening", "imputability": "likely",
         "count": 1},
        {"reaction_type": "uncoded", "severity": "severe", "imputability": "possible",
         "count": 1},
    ]
    assert [c["reaction_type"] for c in report["serious"]] == ["trali", "uncoded"]
    kept = await con.fetchval(
        "SELECT reported_type FROM rm_reactions WHERE reaction_type = 'uncoded'")
    assert kept == "FNHTR"

    h1 = await q.haemovigilance(con, None, None, "H1", SERIOUS)
    assert (h1["units_transfused"], h1["reactions_reported"]) == (3, 3)
    h2 = await q.haemovigilance(con, None, None, "H2", SERIOUS)
    assert (h2["units_transfused"], h2["reactions_reported"]) == (1, 1)
    nobody = await q.haemovigilance(con, None, None, "BB1", SERIOUS)
    assert (nobody["units_transfused"], nobody["counts"]) == (0, [])
    # The period is by when each happened, ``to`` exclusive.
    before = await q.haemovigilance(con, None, w.issued_at, None, SERIOUS)
    assert (before["units_transfused"], before["reactions_reported"]) == (3, 2)
    after = await q.haemovigilance(con, w.issued_at, None, None, SERIOUS)
    assert (after["units_transfused"], after["reactions_reported"]) == (1, 2)


async def test_emergency_issues_missing_late_or_incompatible_crossmatch(
        con: asyncpg.Connection) -> None:
    w = await _stored(con)
    listed = await q.emergency_issues(con, 24, None, now=w.now)
    by_unit = {i["unit_id"]: i for i in listed}
    assert set(by_unit) == {w.never, w.bad, w.slow}
    assert by_unit[w.never]["crossmatch"] is None and by_unit[w.never]["overdue"]
    assert by_unit[w.bad]["crossmatch"] == "incompatible" and not by_unit[w.bad]["overdue"]
    assert by_unit[w.slow]["crossmatch"] == "compatible" and by_unit[w.slow]["overdue"]
    assert by_unit[w.never]["patient_id"] == "PAT-E1" and by_unit[w.never]["site_id"] == "H1"
    # With a longer window nothing is overdue yet: only the incompatible one shows.
    longer = await q.emergency_issues(con, 1000, None, now=w.now)
    assert [i["unit_id"] for i in longer] == [w.bad]
    assert await q.emergency_issues(con, 24, "H2", now=w.now) == []
    standing = await con.fetchrow(
        "SELECT crossmatch, crossmatch_position FROM rm_emergency_issues WHERE unit_id = $1",
        w.first)
    assert standing["crossmatch"] == "compatible" and standing["crossmatch_position"]


async def test_overrides_list_rhd_platelets_and_late_completions(
        con: asyncpg.Connection) -> None:
    w = await _stored(con)
    found = await q.overrides(con, None)
    assert [(o["kind"], o["unit_id"]) for o in found] == [
        ("late_completion", w.late), ("rhd_platelets", w.pos)]
    late, rhd = found
    assert (late["reason"], late["patient_id"], late["anti_d_prophylaxis"]) == (
        "slow rate ordered", "PAT-C", False)
    assert (rhd["reason"], rhd["patient_id"], rhd["anti_d_prophylaxis"]) == (
        None, "PAT-D", True)
    assert await q.overrides(con, "H2") == []


async def test_reactions_for_fhir_by_event_and_by_unit(con: asyncpg.Connection) -> None:
    w = await _stored(con)
    [trali] = await q.reactions_of_unit(con, w.stopped)
    assert (trali["reaction_type"], trali["category"], trali["din"]) == (
        "trali", "red_cells", w.stopped.split("-")[0])
    again = await q.reaction(con, trali["event_id"])
    assert again == trali
    assert await q.reaction(con, uuid.uuid4()) is None


async def test_rebuild_equals_live_and_the_in_memory_fold(fresh_db: str) -> None:
    pool = await asyncpg.create_pool(fresh_db, min_size=1, max_size=2)
    try:
        async with pool.acquire() as con:
            w = World()
            stored = await append_raw(con, w.s.stored()[:40])
            stored += await append_raw(con, w.s.stored()[40:])
            stored += await append_raw(con, [legacy_reaction(w.plain, w.now)])
            live = await tables_digest(con)
            rows = {t: await con.fetch(f"SELECT * FROM {t} ORDER BY 1, 2") for t in (
                "rm_reactions", "rm_transfusions", "rm_emergency_issues", "rm_crossmatches",
                "rm_override_issues")}
        await rebuild(pool, ["transfusion"])
        async with pool.acquire() as con:
            assert await tables_digest(con) == live
        await rebuild(pool)
        async with pool.acquire() as con:
            assert await tables_digest(con) == live
    finally:
        await pool.close()
    assert all(rows.values()), {t: len(r) for t, r in rows.items()}
    for batch in (1, 7, 1000):
        tables = fold(stored, batch)
        for name, got in rows.items():
            assert sorted(tables[name].values(), key=_order) == sorted(
                (dict(r) for r in got), key=_order), (name, batch)


def _order(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(v) for v in row.values())
