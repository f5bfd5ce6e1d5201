"""The change feed: pages and server-sent events. A consumer that reconnects at random points
while writers run sees exactly positions 1..N, each once, in order."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import orjson

from app.api import routes_stream
from tests.e2e.api_world import Net, app_over, served


async def _read_stream(client: httpx.AsyncClient, headers: dict[str, str], take: int,
                       params: dict[str, Any] | None = None,
                       last_event_id: int | None = None) -> tuple[list[int], list[str]]:
    """Open the stream, read up to ``take`` events (for at most 3 s), then hang up."""
    if last_event_id is not None:
        headers = headers | {"Last-Event-ID": str(last_event_id)}
    positions: list[int] = []
    comments: list[str] = []
    current_id: int | None = None
    async with client.stream("GET", "/v1/events/stream", params=params, headers=headers,
                             timeout=10) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.aiter_lines()
        deadline = asyncio.get_running_loop().time() + 3
        while len(positions) < take:
            left = deadline - asyncio.get_running_loop().time()
            try:
                line = await asyncio.wait_for(anext(lines), max(left, 0))
            except (TimeoutError, StopAsyncIteration):
                break
            if line.startswith(":"):
                comments.append(line)
            elif line.startswith("id:"):
                current_id = int(line[3:].strip())
            elif line.startswith("data:"):
                entry = orjson.loads(line[5:].strip())
                positions.append(entry["position"])
                assert entry["leaf_hash"] and entry["type"]
            elif line == "" and current_id is not None:
                assert current_id == positions[-1]
                current_id = None
    return positions, comments


async def test_paged_feed_resumes_with_next_after(client, make_key):
    net = await Net(client, make_key).setup()
    await net.collect(1)
    seen: list[int] = []
    after = 0
    while True:
        page = (await net.get("auditor", "/v1/events", after=after, limit=3)).json()
        if not page["events"]:
            assert page["next_after"] == after
            break
        seen += [e["position"] for e in page["events"]]
        after = page["next_after"]
    assert seen == list(range(1, len(seen) + 1)) and len(seen) > 6


async def test_a_reconnecting_consumer_sees_every_position_once_in_order(services, make_key):
    async with served(app_over(services)) as base, httpx.AsyncClient(base_url=base) as http:
        net = await Net(http, make_key).setup()
        writers_done = asyncio.Event()

        async def writer(w: int) -> None:
            key = net.keys["collector@BB1"]
            for i in range(40):
                if i % 10 == 9:
                    batch = {"events": [{"type": "DonorRegistered",
                                         "data": {"donor_id": f"DNR-W{w}-{i}-{j}"}}
                                        for j in range(8)]}
                    reply = await http.post("/v1/events/batch", json=batch, headers=key)
                    assert reply.json()["accepted"] == 8
                else:
                    reply = await http.post("/v1/events", headers=key, json={
                        "type": "DonorRegistered", "data": {"donor_id": f"DNR-W{w}-{i}"}})
                    assert reply.status_code == 201, reply.text
                await asyncio.sleep(random.random() * 0.004)

        async def writers() -> None:
            await asyncio.gather(*(writer(w) for w in range(4)))
            writers_done.set()

        async def consumer() -> list[int]:
            rng = random.Random(7)
            seen: list[int] = []
            reconnections = 0
            while True:
                done = writers_done.is_set()
                head = (await http.get("/readyz")).json()["log_size"]
                cursor = seen[-1] if seen else 0
                mode = rng.choice(("header", "query", "page"))
                if mode == "page":
                    page = (await net.get("auditor", "/v1/events", after=cursor,
                                          limit=rng.randint(1, 30))).json()
                    got = [e["position"] for e in page["events"]]
                else:
                    got, _ = await _read_stream(
                        http, net.keys["auditor"], rng.randint(1, 40),
                        params={"after": cursor} if mode == "query" else {"after": 0},
                        last_event_id=cursor if mode == "header" else None)
                    reconnections += 1
                seen += got
                if done and seen and seen[-1] >= head:
                    return seen

        task = asyncio.create_task(writers())
        seen = await consumer()
        await task
        total = (await net.get("auditor", "/v1/events", after=0, limit=1000)).json()
        last = total["events"][-1]["position"]
        assert last > 250
        assert seen == list(range(1, last + 1))


async def test_stream_heartbeats_when_idle_and_refuses_a_bad_last_event_id(
        services, make_key, monkeypatch):
    monkeypatch.setattr(routes_stream, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(routes_stream, "POLL_SECONDS", 0.1)
    async with served(app_over(services)) as base, httpx.AsyncClient(base_url=base) as http:
        headers = await make_key("auditor")
        positions, comments = await _read_stream(http, headers, 1)
        assert positions == [] and ": heartbeat" in comments
        bad = await http.get("/v1/events/stream", headers=headers | {"Last-Event-ID": "x"})
        assert (bad.status_code, bad.json()["field"]) == (422, "Last-Event-ID")
        # A new event reaches an open stream through the writer's NOTIFY.
        admin = await make_key("admin")

        async def later() -> None:
            await asyncio.sleep(0.3)
            await http.post("/v1/events", headers=admin, json={
                "type": "SiteRegistered",
                "data": {"site_id": "S1", "name": "S", "kind": "lab", "region": "R"}})

        task = asyncio.create_task(later())
        positions, _ = await _read_stream(http, headers, 1)
        await task
        assert positions == [1]


async def test_an_open_stream_ends_when_its_key_is_revoked(
        services, fresh_db, make_key, monkeypatch):
    """Revocation takes effect at once (issue 16) on a stream already open too: the feed stops
    sending and hangs up, and the reconnection is a 401."""
    import asyncpg

    from app.store.keys import create_key

    monkeypatch.setattr(routes_stream, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr(routes_stream, "POLL_SECONDS", 0.1)
    con = await asyncpg.connect(fresh_db)
    try:
        issued = await create_key(con, "auditor", None)
    finally:
        await con.close()
    headers = {"Authorization": f"Bearer {issued.token}"}
    admin = await make_key("admin")
    async with served(app_over(services)) as base, httpx.AsyncClient(base_url=base) as http:
        async with http.stream("GET", "/v1/events/stream", headers=headers,
                               timeout=10) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            assert (await asyncio.wait_for(anext(lines), 3)).startswith(":")
            while not (await asyncio.wait_for(anext(lines), 3)).startswith(": heartbeat"):
                pass  # the stream is live and its key still good
            revoked = await http.delete(f"/v1/admin/keys/{issued.key_id}", headers=admin)
            assert revoked.status_code in (200, 204), revoked.text

            async def to_the_end() -> list[str]:
                return [line async for line in lines]

            rest = await asyncio.wait_for(to_the_end(), 5)
            assert not any(line.startswith("data:") for line in rest)
        again = await http.get("/v1/events/stream", headers=headers)
        assert again.status_code == 401
