"""Reads on the replica (``BLOODTRACE_READ_DATABASE_URL``): consumers follow the feed (its
pages, and its SSE stream) from the standby while writers append on the primary, and see
exactly 1..N. The replica's
lag shows in /readyz and /metrics.

Also measured here, on the same cluster in the same run: the append rate with synchronous
replication and without (Patroni's ``synchronous_mode`` switched off and on again).
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import orjson

from app.config import Settings
from app.ha import cluster as ha
from app.ha.cluster import Cluster
from tests.e2e.api_world import app_over, served
from tests.ha.load import Load
from tests.ha.test_failover import loaded


def _database(dsn: str) -> str:
    return dsn.split("/", 3)[3].split("?")[0]


async def _key(dsn: str, role: str) -> dict[str, str]:
    from app.store.keys import create_key

    con = await asyncpg.connect(dsn)
    try:
        return {"Authorization": f"Bearer {(await create_key(con, role, None)).token}"}
    finally:
        await con.close()


async def test_a_consumer_on_the_replica_sees_exactly_1_to_n(ha_cluster, ha_db, tmp_path):
    replica = ha_cluster.dsn(_database(ha_db), attrs="prefer-standby")
    settings = Settings(database_url=ha_db, read_database_url=replica, data_dir=tmp_path,
                        pool_min_size=2, pool_max_size=20, log_json=False)
    async with loaded(settings, first=1) as (http, load, services, _):
        auditor = await _key(ha_db, "auditor")
        async with services.read_pool.acquire() as con:
            assert await con.fetchval("SELECT pg_is_in_recovery()"), "reads not on a standby"
        seen: list[int] = []
        cursor = 0

        async def follow(until: int | None) -> None:
            nonlocal cursor
            while until is None or cursor < until:
                page = await http.get("/v1/events", params={"after": cursor, "limit": 1000},
                                      headers=auditor)
                assert page.status_code == 200, page.text
                positions = [e["position"] for e in page.json()["events"]]
                seen.extend(positions)
                cursor = positions[-1] if positions else cursor
                if until is None and load.stop.is_set():
                    return
                await asyncio.sleep(0 if positions else 0.02)

        consumer = asyncio.create_task(follow(None))
        streamed: list[int] = []
        wanted: list[int] = []  # the total, once the writers have stopped
        async with served(app_over(services)) as base, httpx.AsyncClient(base_url=base) as sse:
            stream = asyncio.create_task(_stream(sse, auditor, streamed, wanted))
            await load.wait_for(1500, timeout_s=120)
            ready = await http.get("/readyz")
            metrics = await http.get("/metrics", headers=auditor)
            await load.finish()
            await consumer
            total = len({a.event_id for a in load.acks})
            wanted.append(total)
            await asyncio.wait_for(follow(total), 30)
            await asyncio.wait_for(stream, 30)
        assert seen == list(range(1, total + 1))
        assert streamed == list(range(1, total + 1))
        print(f"\nreplica consumers (feed pages and SSE) followed {total} events in order, "
              "none skipped or repeated")


        assert ready.status_code == 200, ready.text
        lag = ready.json()["replica"]
        assert lag["standby"] is True and lag["lag_events"] >= 0 and lag["lag_bytes"] >= 0
        assert metrics.status_code == 200
        text = metrics.text
        assert "bloodtrace_replica_up 1.0" in text
        assert "bloodtrace_replica_lag_events" in text and "bloodtrace_replica_lag_bytes" in text


async def _stream(http: httpx.AsyncClient, headers: dict[str, str], into: list[int],
                  wanted: list[int]) -> None:
    """Follow ``/v1/events/stream`` (served from the replica) until it has delivered the
    total that ``wanted`` is given once the writers stop."""
    async with http.stream("GET", "/v1/events/stream", headers=headers,
                           timeout=60) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                into.append(orjson.loads(line[5:].strip())["position"])
            if wanted and len(into) >= wanted[0]:
                return


async def _synchronous_names(cluster: Cluster) -> str:
    con = await asyncpg.connect(cluster.dsn())
    try:
        value: str = await con.fetchval("SHOW synchronous_standby_names")
        return value
    finally:
        await con.close()


async def _rate(load: Load, seconds: float) -> float:
    start, before = time.monotonic(), len(load.acks)
    await asyncio.sleep(seconds)
    return (len(load.acks) - before) / (time.monotonic() - start)


async def _set_synchronous(cluster: Cluster, on: bool) -> None:
    await asyncio.to_thread(ha.patch_config, cluster, {"synchronous_mode": on,
                                                       "synchronous_mode_strict": on})
    deadline = time.monotonic() + 30
    while bool(await _synchronous_names(cluster)) != on:
        assert time.monotonic() < deadline, f"Patroni did not set synchronous_mode={on}"
        await asyncio.sleep(0.2)


async def test_append_rate_with_and_without_synchronous_replication(ha_cluster, ha_db, tmp_path):
    settings = Settings(database_url=ha_db, data_dir=tmp_path, pool_min_size=2,
                        pool_max_size=20, log_json=False)
    async with loaded(settings, first=100) as (_, load, _, _):
        try:
            assert await _synchronous_names(ha_cluster), "replication is not synchronous"
            synchronous = await _rate(load, 6)
            await _set_synchronous(ha_cluster, False)
            asynchronous = await _rate(load, 6)
        finally:
            await _set_synchronous(ha_cluster, True)
        print(f"\nappend rate, 16 writers through the API: {synchronous:.0f}/s with "
              f"synchronous replication, {asynchronous:.0f}/s without")
        assert synchronous > 0 and asynchronous > 0
    await asyncio.to_thread(ha.wait_healthy, ha_cluster, 60)
