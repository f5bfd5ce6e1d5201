"""Read-model query latency at ~1 M units.

    python -m bench.bench_read_models [--units 1000000] [--url postgresql://...] [--keep]

SYNTHETIC POPULATION: to reach 1 M units in minutes, the read-model tables (and one log row
plus one event_refs row per unit, so the provenance join has a log to hit) are filled with
server-side ``generate_series`` SQL, NOT through the writer and the projections. The shape
follows a national network: donations of three units (a consumed whole-blood parent and two
components), ~5 % of units in stock, ~1 % in transit, the rest transfused, discarded or
fractionated. Only the reads are measured; write throughput is the writer's benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from app.store import read_queries as q
from app.store.migrate import migrate

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SITES = 150
CATEGORIES = ("red_cells", "plasma", "platelets", "cryoprecipitate", "whole_blood")

POPULATE = """
INSERT INTO rm_donations (din, kind, donor_id, site_id, collection_type, product_code,
                          category, volume_ml, collected_at, position)
SELECT 'A9999' || lpad(d::text, 8, '0'), 'collection', 'DONOR-' || (d % 200000),
       'S' || lpad((d % {sites})::text, 3, '0'), 'whole_blood', 'E0001V00', 'whole_blood', 450,
       $1::timestamptz - (d % 720) * interval '1 day', d * 3
  FROM generate_series(1, {dins}) AS d;

INSERT INTO rm_units (unit_id, din, product_code, category, collection_type, donor_id,
    volume_ml, abo, rhd, status, released, quarantined, consumed, in_stock, custodian_site_id,
    location, in_transit_from, in_transit_to, shipped_at, collected_site_id, collected_at,
    expires_at, issued_patient_id, emergency, excursions, adverse_reactions, fate, fate_reason,
    fate_at, fate_site_id, recipient_patient_id, created_position, last_position, updated_at)
SELECT din || '-' || pc, din, pc, cat, 'whole_blood', donor, 250,
       (ARRAY['O','O','A','A','B','AB'])[1 + (h % 6)],
       (ARRAY['POS','POS','POS','NEG'])[1 + (h % 4)],
       status, status <> 'unreleased', status = 'quarantined', status = 'consumed',
       status IN ('unreleased','quarantined','released','reserved','issued'), site,
       CASE WHEN status = 'released' THEN 'fridge-' || (h % 5) END,
       CASE WHEN status = 'in_transit' THEN site END,
       CASE WHEN status = 'in_transit' THEN 'S' || lpad(((h / 7) % {sites})::text, 3, '0') END,
       CASE WHEN status = 'in_transit' THEN $1::timestamptz - (h % 96) * interval '1 hour' END,
       site, collected, expires,
       CASE WHEN status IN ('issued','transfused') THEN 'PAT-' || (h % 300000) END, false, 0, 0,
       CASE WHEN status IN ('transfused','discarded','fractionated') THEN status END,
       CASE WHEN status = 'discarded'
            THEN (ARRAY['expired','damaged','temperature','other'])[1 + (h % 4)] END,
       CASE WHEN status IN ('transfused','discarded','fractionated')
            THEN collected + interval '9 days' END,
       CASE WHEN status IN ('transfused','discarded','fractionated') THEN site END,
       CASE WHEN status = 'transfused' THEN 'PAT-' || (h % 300000) END,
       pos, pos, collected
  FROM (
    SELECT d.din, d.donor_id AS donor, d.collected_at AS collected, k, d.position + k AS pos,
           abs(hashtext(d.din || k)) AS h,
           (ARRAY['E0001V00','E0398V00','E2555V00'])[k + 1] AS pc,
           (ARRAY['whole_blood',
                  (ARRAY['red_cells','red_cells','platelets'])[1 + (abs(hashtext(d.din)) % 3)],
                  'plasma'])[k + 1] AS cat,
           'S' || lpad((abs(hashtext(d.din || 'site' || k)) % {sites})::text, 3, '0') AS site,
           CASE WHEN k = 0 THEN 'consumed'
                WHEN d.collected_at > $1::timestamptz - interval '40 days'
                     AND abs(hashtext(d.din || k)) % 100 < 80 THEN
                     (ARRAY['released','released','released','released','unreleased',
                            'quarantined','reserved','issued','in_transit','released'])
                     [1 + (abs(hashtext(d.din || k)) % 10)]
                ELSE (ARRAY['transfused','transfused','transfused','discarded','fractionated'])
                     [1 + (abs(hashtext(d.din || k)) % 5)] END AS status,
           CASE WHEN k = 2 THEN d.collected_at + interval '365 days'
                ELSE d.collected_at + interval '42 days' END AS expires
      FROM rm_donations d, generate_series(0, 2) AS k
  ) s;

INSERT INTO rm_lineage (parent_unit_id, child_unit_id, kind, position)
SELECT din || '-E0001V00', unit_id, 'split', created_position FROM rm_units
 WHERE product_code <> 'E0001V00';

INSERT INTO rm_custody (unit_id, from_position, kind, site_id, from_at, to_at, to_position,
                        end_reason)
SELECT unit_id, created_position, 'site', collected_site_id, collected_at,
       coalesce(fate_at, CASE WHEN consumed THEN collected_at + interval '2 hours' END),
       CASE WHEN fate IS NOT NULL OR consumed THEN last_position END,
       coalesce(fate, CASE WHEN consumed THEN 'split' END)
  FROM rm_units;

INSERT INTO rm_patient_units (patient_id, position, unit_id, action, site_id, occurred_at,
                              emergency)
SELECT coalesce(recipient_patient_id, issued_patient_id), created_position * 10 + a, unit_id,
       (ARRAY['issued','transfused'])[a], custodian_site_id, collected_at, false
  FROM rm_units, generate_series(1, 2) AS a
 WHERE coalesce(recipient_patient_id, issued_patient_id) IS NOT NULL
   AND (a = 1 OR fate = 'transfused');

INSERT INTO rm_fates (position, unit_id, fate, reason, site_id, category, abo, rhd, actor_key,
                      actor_role, actor_site_id, occurred_at, recorded_at)
SELECT last_position, unit_id, fate, fate_reason, fate_site_id, category, abo, rhd,
       'key-' || fate_site_id || '-' || (last_position % 4), 'hospital', fate_site_id,
       fate_at, fate_at
  FROM rm_units WHERE fate IS NOT NULL;

INSERT INTO events (position, event_id, stream, stream_version, type, schema_version, record,
                    leaf_hash, chain_hash, content_hash, occurred_at, recorded_at, actor_key,
                    actor_role, actor_site)
SELECT created_position, md5(unit_id)::uuid, unit_id, 1,
       CASE WHEN product_code = 'E0001V00' THEN 'DonationCollected' ELSE 'UnitSplit' END, 1,
       convert_to(json_build_object(
           'position', created_position, 'type', 'DonationCollected', 'synthetic', true,
           'data', json_build_object('unit_id', unit_id),
           'actor', json_build_object('key_id', 'key-' || collected_site_id,
                                      'role', 'collector', 'site_id', collected_site_id))::text,
           'UTF8'), sha256(convert_to(unit_id, 'UTF8')),
       sha256(convert_to(din, 'UTF8')), '\\x00', collected_at, collected_at,
       'key-' || collected_site_id, 'collector', collected_site_id
  FROM rm_units;

INSERT INTO event_refs (kind, ref, position)
SELECT 'unit', unit_id, created_position FROM rm_units;
"""


def _pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def _measure(n: int, call: Callable[[], Awaitable[Any]]) -> tuple[float, float, float]:
    for _ in range(20):  # warm the cache and the prepared statements
        await call()
    took = []
    for _ in range(n):
        t = time.perf_counter()
        await call()
        took.append((time.perf_counter() - t) * 1000)
    return statistics.median(took), _pct(took, 0.99), max(took)


async def main(url: str, units: int, keep: bool, iterations: int) -> None:
    admin = await asyncpg.connect(url)
    name = f"bench_rm_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    db_url = url.rsplit("/", 1)[0] + "/" + name
    con = await asyncpg.connect(db_url)
    try:
        await migrate(con)
        t = time.perf_counter()
        await con.execute("SET synchronous_commit = off")
        await con.execute("ALTER TABLE events DISABLE TRIGGER USER")
        for statement in POPULATE.format(sites=SITES, dins=units // 3).split(";\n\n"):
            await con.execute(statement, NOW) if "$1" in statement else await con.execute(
                statement)
        await con.execute("ALTER TABLE events ENABLE TRIGGER USER")
        await con.execute("VACUUM ANALYZE")
        total = await con.fetchval("SELECT count(*) FROM rm_units")
        in_stock = await con.fetchval("SELECT count(*) FROM rm_units WHERE in_stock")
        print(f"populated (synthetic) {total:,} units, {in_stock:,} in stock, "
              f"in {time.perf_counter() - t:.0f} s")
        await _report(con, iterations)
    finally:
        await con.close()
        if not keep:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


async def _report(con: asyncpg.Connection, n: int) -> None:
    rng = random.Random(1)
    sample = [r[0] for r in await con.fetch(
        "SELECT unit_id FROM rm_units TABLESAMPLE SYSTEM (1) WHERE NOT consumed LIMIT 2000")]

    def site() -> str:
        return f"S{rng.randrange(SITES):03d}"

    cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("stock site (counts + FEFO 50)", lambda: q.stock(con, site=site(), limit=50, now=NOW)),
        ("stock site+category+group", lambda: q.stock(
            con, site=site(), category=rng.choice(CATEGORIES[:3]), abo="O", rhd="POS",
            limit=50, now=NOW)),
        ("stock national, expiring 72h", lambda: q.stock(
            con, expiring_within_hours=72, limit=50, now=NOW)),
        ("provenance(unit)", lambda: q.provenance(con, rng.choice(sample), now=NOW)),
        ("unit_state(unit)", lambda: q.unit_state(con, rng.choice(sample))),
        ("audit events by actor", lambda: q.audit_events(con, actor=f"key-{site()}", limit=100)),
        ("custody gaps > 24h", lambda: q.custody_gaps(con, 24, NOW, limit=200)),
    ]
    print(f"\n{'query':<34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   (n={n})")
    for label, call in cases:
        p50, p99, worst = await _measure(n, call)
        print(f"{label:<34}{p50:>9.2f}{p99:>9.2f}{worst:>9.2f}")
    print("\nquery plans (EXPLAIN ANALYZE):")
    unit = sample[0]
    plans = {
        "stock FEFO": "SELECT unit_id FROM rm_units WHERE in_stock AND custodian_site_id = 'S007' "
                      "AND category = 'red_cells' ORDER BY expires_at, unit_id LIMIT 50",
        "stock counts": "SELECT custodian_site_id, category, abo, rhd, status, count(*) "
                        "FROM rm_units WHERE in_stock AND custodian_site_id = 'S007' "
                        "GROUP BY 1, 2, 3, 4, 5",
        "provenance custody": f"SELECT * FROM rm_custody WHERE unit_id = ANY('{{{unit}}}')",
        "provenance lineage": f"SELECT * FROM rm_lineage WHERE child_unit_id = '{unit}'",
        "provenance events": "SELECT e.position, e.leaf_hash FROM event_refs r JOIN events e "
                             "ON e.position = r.position WHERE r.kind = 'unit' "
                             f"AND r.ref = '{unit}'",
        "audit by actor": "SELECT position FROM events WHERE actor_key = 'key-S007' "
                          "ORDER BY recorded_at, position LIMIT 100",
    }
    for label, sql in plans.items():
        rows = await con.fetch("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
        print(f"-- {label}")
        for r in rows:
            print("   " + r[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--units", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.units, args.keep, args.iterations))
