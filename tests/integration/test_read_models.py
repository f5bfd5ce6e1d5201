"""Read models against real PostgreSQL: schema, queries, query plans, lookback reach."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, timedelta

import asyncpg
import pytest

from app.projections.tables import ALL_TABLES
from app.store import read_queries as q
from tests.support.scene import BEDSIDE, PLASMA, PLATELETS, RED_CELLS, actor, din, scene
from tests.support.unit_events import append_raw
from tests.support.unit_sim import Sim


@pytest.fixture
async def con(fresh_db: str):  # type: ignore[no-untyped-def]
    c = await asyncpg.connect(fresh_db)
    yield c
    await c.close()


async def test_migration_columns_match_the_table_specs(con: asyncpg.Connection) -> None:
    for spec in ALL_TABLES:
        rows = await con.fetch(
            "SELECT column_name, format_type(a.atttypid, a.atttypmod) AS type "
            "FROM information_schema.columns c JOIN pg_attribute a "
            "ON a.attrelid = c.table_name::regclass AND a.attname = c.column_name "
            "WHERE c.table_name = $1 ORDER BY c.ordinal_position", spec.name)
        want = [(n, t.replace("timestamptz", "timestamp with time zone")) for n, t in spec.columns]
        assert [(r["column_name"], r["type"]) for r in rows] == want, spec.name


async def test_app_role_may_change_read_models(con: asyncpg.Connection) -> None:
    for spec in ALL_TABLES:
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            assert await con.fetchval("SELECT has_table_privilege('bloodtrace_app', $1, $2)",
                                      spec.name, privilege), (spec.name, privilege)


async def test_lookback_reaches_every_derived_unit_and_recipient(con: asyncpg.Connection) -> None:
    """Donor X gives twice. The first donation is split; its platelets are pooled with another
    donor's; the red cells and the pool are transfused. X later tests reactive. Every event is
    decided by the domain (``Scene``) and stored as the writer would."""
    s = scene()
    x, y = s.new_donor("DNR-X"), s.new_donor("DNR-Y")
    first = s.collect(donor_id=x)
    s.test_all(din(1))
    red, plasma, plt = s.split(first, [(RED_CELLS, "red_cells", 250),
                                       (PLASMA, "plasma", 150), (PLATELETS, "platelets", 50)])
    other = s.collect(donor_id=y, collection_type="apheresis_platelets", category="platelets",
                      product_code="E3001V00", volume_ml=250)
    s.test_all(din(2))
    pool = f"{din(3)}-E7000V00"
    s.do("UnitsPooled", {"parent_unit_ids": [plt, other], "din": din(3),
                         "product_code": "E7000V00", "category": "platelets", "volume_ml": 290},
         actor("processing", "BB1"))
    s.do("TestResultRecorded", {"din": din(3), "marker": "BACTERIA", "result": "non_reactive",
                                "lab_site_id": "LAB1"}, actor("lab", "LAB1"))
    for uid, patient in ((red, "PAT-1"), (pool, "PAT-2")):
        s.release(uid)
        s.receive(uid, s.ship(uid, "H1"), "H1")
        s.reserve(uid, patient)
        s.issue(uid, patient)
        s.do("TransfusionStarted", {"unit_id": uid, "patient_id": patient,
            "bedside_check": BEDSIDE}, actor("hospital", "H1"))
        s.do("UnitTransfused", {"unit_id": uid, "patient_id": patient}, actor("hospital", "H1"))
    s.later(days=60)
    second = s.collect(4, donor_id=x)
    s.do("TestResultRecorded", {"din": din(4), "marker": "HIV", "result": "reactive",
                                "lab_site_id": "LAB1"}, actor("lab", "LAB1"))
    await append_raw(con, s.stored())

    found = {u["unit_id"]: u for u in await q.donor_trace(con, donor_id=x)}
    assert set(found) == {first, red, plasma, plt, pool, second}
    assert {u["recipient_patient_id"] for u in found.values()} >= {"PAT-1", "PAT-2"}
    assert found[plasma]["custodian_site_id"] == "BB1" and found[plasma]["status"] != "consumed"
    assert found[second]["status"] == "quarantined"
    since = await q.donor_trace(con, donor_id=x, since=s.now - timedelta(days=1))
    assert [u["unit_id"] for u in since] == [second]
    prov = await q.provenance(con, pool, now=s.now)
    assert prov is not None and prov["donors"] == [x, y]
    assert {n["unit_id"] for n in prov["lineage"]["nodes"]} == {pool, plt, other, first}
    received = await q.patient_units(con, "PAT-2")
    assert [(u["unit_id"], u["received"]) for u in received] == [(pool, True)]
    assert [a["action"] for a in received[0]["actions"]] == ["reserved", "issued", "transfused"]


async def test_queries_answer_on_a_simulated_network(con: asyncpg.Connection) -> None:
    sim = Sim(seed=11)
    events = sim.run(2500)
    for start in range(0, len(events), 250):
        await append_raw(con, events[start:start + 250])
    now = sim.log.now
    page = await q.stock(con, site="BB00", limit=5, now=now)
    assert len(page["units"]) <= 5
    if page["next_after"]:
        more = await q.stock(con, site="BB00", limit=5, after=page["next_after"], now=now)
        assert {u["unit_id"] for u in more["units"]}.isdisjoint(u["unit_id"]
                                                               for u in page["units"])
        keys = [(u["expires_at"], u["unit_id"]) for u in page["units"] + more["units"]]
        assert keys == sorted(keys)
    in_transit = [u for u in sim.units.values() if u.state == "transit"]
    gaps = await q.custody_gaps(con, 0, now)
    assert {g["unit_id"] for g in gaps} == {u.unit_id for u in in_transit}
    d = await q.discards(con, from_=sim.log.events[0].occurred_at, to=now + timedelta(1))
    assert sum(r["discards"] for r in d["by_reason"]) == sum(
        1 for e in events if e.type == "UnitDiscarded")
    assert all(0 < a["rate"] <= 1 for a in d["by_actor"])
    daily = [e for e in events if e.type == "UnitDiscarded"]
    assert sorted((r["day"], r["reason"], r["discards"]) for r in d["by_day"]) == sorted(
        (day, reason, n) for (day, reason), n in Counter(
            (e.occurred_at.astimezone(UTC).date(), e.data.reason) for e in daily).items())
    first = await q.audit_events(con, type="UnitShipped", limit=10)
    second = await q.audit_events(con, type="UnitShipped", limit=10, after=first["next_after"])
    positions = [e["position"] for e in first["events"] + second["events"]]
    assert positions == sorted(set(positions)) and len(positions) == 20
    assert await q.inventory_index(con, now, site="H00") is not None
    soon = {u.unit_id for u in sim.units.values() if u.state == "stock" and u.released
            and not u.quarantined and u.patient is None
            and sim._hours_now() < u.expires_hours <= sim._hours_now() + 72}
    alerts = await q.near_expiry(con, 72, now)
    assert soon, "the seed should leave some released units close to expiry"
    assert {uid for a in alerts for uid in a["unit_ids"]} == soon
    live = {u.unit_id for u in sim.units.values() if u.state in ("stock", "transit")}
    unfated = await q.unfated_past_expiry(con, now + timedelta(days=400), limit=len(live) + 1)
    assert live and {u["unit_id"] for u in unfated} == live


PLANS = {
    "stock": ("SELECT unit_id FROM rm_units WHERE in_stock AND custodian_site_id = 'BB00' "
              "AND category = 'red_cells' ORDER BY expires_at, unit_id LIMIT 50"),
    "stock_counts": ("SELECT category, abo, rhd, status, count(*) FROM rm_units WHERE in_stock "
                     "AND custodian_site_id = 'BB00' GROUP BY 1, 2, 3, 4"),
    "near_expiry": ("SELECT unit_id FROM rm_units WHERE in_stock AND status = 'released' "
                    "AND expires_at > now() AND expires_at <= now() + interval '2 days'"),
    "unit": "SELECT * FROM rm_units WHERE unit_id = 'x'",
    "donation_units": "SELECT * FROM rm_units WHERE din = 'x'",
    "lineage_up": "SELECT * FROM rm_lineage WHERE child_unit_id = 'x'",
    "lineage_down": "SELECT * FROM rm_lineage WHERE parent_unit_id = 'x'",
    "custody": "SELECT * FROM rm_custody WHERE unit_id = ANY('{x,y}')",
    "patient": "SELECT * FROM rm_patient_units WHERE patient_id = 'x'",
    "unit_events": ("SELECT e.position FROM event_refs r JOIN events e ON e.position = r.position "
                    "WHERE r.kind = 'unit' AND r.ref = 'x'"),
    "audit_actor": ("SELECT position FROM events WHERE actor_key = 'k' "
                    "ORDER BY recorded_at, position LIMIT 100"),
    "audit_time": ("SELECT position FROM events WHERE recorded_at >= now() - interval '1 day' "
                   "ORDER BY recorded_at, position LIMIT 100"),
    "custody_gaps": ("SELECT unit_id FROM rm_units WHERE in_transit_to IS NOT NULL "
                     "AND shipped_at < now() ORDER BY shipped_at"),
    "unfated": ("SELECT unit_id FROM rm_units WHERE fate IS NULL AND NOT consumed "
                "AND expires_at < now() ORDER BY expires_at"),
    "discards": "SELECT count(*) FROM rm_fates WHERE occurred_at >= now() - interval '30 days'",
    "lookback": "SELECT * FROM rm_lookback_units WHERE lookback_id = 'x'",
    "haemovigilance": ("SELECT reaction_type, severity, imputability, count(*) FROM rm_reactions "
                       "WHERE occurred_at >= now() - interval '1 year' AND occurred_at < now() "
                       "GROUP BY 1, 2, 3"),
    "haemovigilance_site": ("SELECT count(*) FROM rm_reactions WHERE site_id = 'H1' "
                            "AND occurred_at >= now() - interval '1 year'"),
    "units_transfused": ("SELECT count(*) FROM rm_transfusions WHERE site_id = 'H1' "
                         "AND occurred_at >= now() - interval '1 year' AND occurred_at < now()"),
    "emergency": ("SELECT unit_id FROM rm_emergency_issues WHERE returned_at IS NULL AND ("
                  "(crossmatch IS NULL AND issued_at <= now()) "
                  "OR crossmatched_at > issued_at + interval '1 day' "
                  "OR crossmatch = 'incompatible') ORDER BY issued_at"),
    "overrides_rhd": ("SELECT o.unit_id FROM rm_override_issues o JOIN rm_units u "
                      "ON u.unit_id = o.unit_id WHERE u.category = 'platelets' AND u.rhd = 'POS'"
                      " ORDER BY o.issued_at"),
    "overrides_late": ("SELECT unit_id FROM rm_transfusions "
                       "WHERE late_completion_reason IS NOT NULL ORDER BY occurred_at"),
    "reactions_of_unit": "SELECT * FROM rm_reactions WHERE unit_id = 'x' ORDER BY position",
    "reaction": ("SELECT * FROM rm_reactions "
                 "WHERE event_id = '5b0f9a34-4a8e-4b8e-9d7e-0c3f8f1e2a11'"),
}


@pytest.mark.parametrize("name", sorted(PLANS))
async def test_every_read_has_an_index_path(con: asyncpg.Connection, name: str) -> None:
    """With sequential scans priced out, no read falls back to one: an index serves it. (At
    scale the planner chooses these indexes on its own; see bench/bench_read_models.py.)"""
    async with con.transaction():
        await con.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await con.fetch("EXPLAIN " + PLANS[name]))
    assert not re.search(r"Seq Scan", plan), plan
