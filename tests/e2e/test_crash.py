"""SIGKILL the server in the middle of a stream of appends: after a restart every append that
got a 2xx is present, the log verifies, and nothing is half-written."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx

from tests.support.log_checks import recompute
from tests.support.server import ServerProcess


async def test_sigkill_mid_stream_loses_no_acknowledged_append(fresh_db, make_key):
    headers = await make_key("admin")
    server = ServerProcess(fresh_db)
    await asyncio.to_thread(server.start)
    acked: set[str] = set()
    stop = asyncio.Event()

    async def writer(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            event_id = str(uuid.uuid4())
            body = {"type": "DonorRegistered", "event_id": event_id,
                    "data": {"donor_id": f"DNR-{event_id[:12]}"}}
            try:
                response = await client.post("/v1/events", json=body, headers=headers)
            except httpx.HTTPError:
                return
            if response.status_code == 201:
                acked.add(event_id)

    try:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as client:
            tasks = [asyncio.create_task(writer(client)) for _ in range(16)]
            while len(acked) < 150:
                await asyncio.sleep(0.02)
            server.kill()
            stop.set()
            await asyncio.gather(*tasks)
        assert len(acked) >= 150
        await asyncio.to_thread(server.start)
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
            report = (await client.get("/v1/audit/verify", headers=headers)).json()
        assert report["ok"], report
    finally:
        server.stop()
    con = await asyncpg.connect(fresh_db)
    try:
        stored = {str(r[0]) for r in await con.fetch("SELECT event_id FROM events")}
        head = await con.fetchval("SELECT position FROM log_head")
    finally:
        await con.close()
    assert acked <= stored
    assert await recompute(fresh_db) == list(range(1, head + 1))
