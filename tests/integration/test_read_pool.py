"""``BLOODTRACE_READ_DATABASE_URL``: the feed and the read views go to the read pool, writes
and authentication stay on the primary, and /readyz and /metrics report the replica's lag.
Here the "replica" is the primary itself (or a port nobody listens on); tests/ha has a real
standby."""

from __future__ import annotations

import asyncpg

from app.bootstrap import open_services
from app.store.keys import create_key
from tests.conftest import http_client, settings_for
from tests.support.server import free_port

DONOR = {"type": "DonorRegistered", "data": {"donor_id": "DNR-READ-1"}}


async def _keys(url: str) -> tuple[dict[str, str], dict[str, str]]:
    con = await asyncpg.connect(url)
    try:
        admin = (await create_key(con, "admin", None)).token
        auditor = (await create_key(con, "auditor", None)).token
    finally:
        await con.close()
    return {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {auditor}"}


async def test_reads_follow_the_read_pool_and_its_lag_is_reported(fresh_db):
    async with open_services(settings_for(fresh_db, read_database_url=fresh_db)) as services:
        admin, auditor = await _keys(fresh_db)
        async with http_client(services) as http:
            assert (await http.post("/v1/events", json=DONOR, headers=admin)).status_code == 201
            feed = await http.get("/v1/events", headers=auditor)
            assert [e["position"] for e in feed.json()["events"]] == [1]
            ready = await http.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["replica"] == {"standby": False, "lag_events": 0,
                                               "lag_bytes": 0, "lag_seconds": 0.0}
            text = (await http.get("/metrics", headers=auditor)).text
            assert "bloodtrace_replica_up 1.0" in text
            assert "bloodtrace_replica_lag_events 0.0" in text


async def test_an_unreachable_replica_fails_reads_not_writes(fresh_db):
    nowhere = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    settings = settings_for(fresh_db, read_database_url=nowhere, connect_timeout_s=1)
    async with open_services(settings) as services:
        admin, auditor = await _keys(fresh_db)
        async with http_client(services) as http:
            written = await http.post("/v1/events", json=DONOR, headers=admin)
            assert written.status_code == 201, written.text  # the primary, as ever
            for path in ("/v1/events", "/v1/checkpoints/latest", "/v1/stock"):
                read = await http.get(path, headers=auditor)
                assert (read.status_code, read.json()["rule"]) == (503, "unavailable"), path
            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["reason"].startswith("replica:")
            text = (await http.get("/metrics", headers=auditor)).text
            assert "bloodtrace_replica_up 0.0" in text
