"""The pool under more requests than it has connections.

CI once hung for 80 minutes here: eight identity reads at once on a pool of eight
connections. Each request held the connection of its route and waited, with no time limit,
for a second one to look up its site; none ever came back. Now a request holds one
connection at a time, the writer has its own, and no wait for a connection is unbounded.
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from app.bootstrap import open_services
from app.store.pool import close_pool, open_pool
from tests.conftest import KeyMaker, app_and_client, settings_for
from tests.e2e.api_world import PROBLEM, Net
from tests.e2e.donor_people import PEOPLE
from tests.support.pool_watch import watch_nesting

POOL = 2
AT_ONCE = 12


async def test_identity_reads_beyond_the_pool_all_answer(fresh_db: str,
                                                         make_key: KeyMaker) -> None:
    """``AT_ONCE`` recall lists, notification lists and subject access reports at once on a
    pool of ``POOL``: every one is answered 200 and recorded, and none took a second
    connection while it held one."""
    async with open_services(settings_for(fresh_db, pool_min_size=1, pool_max_size=POOL)) \
            as services, app_and_client(services) as (_, client):
        net = await Net(client, make_key).setup()
        made = [await client.post("/v1/donors", json=p, headers=net.keys["collector@BB1"])
                for p in PEOPLE]
        assert [m.status_code for m in made] == [201] * len(PEOPLE), made[0].text
        donor = made[0].json()["donor_id"]
        reader = net.keys["processing@BB1"]
        urls = ["/v1/donors/due", "/v1/donors/notifications", f"/v1/donors/{donor}/report"]
        with watch_nesting(services.pool) as nested:
            async with asyncio.timeout(120):  # a deadlock fails here, not in CI's 90 minutes
                answers = await asyncio.gather(*(
                    client.get(urls[i % len(urls)], headers=reader) for i in range(AT_ONCE)))
        assert [a.status_code for a in answers] == [200] * AT_ONCE, \
            [a.text for a in answers if a.status_code != 200][:1]
        assert not nested, nested[0]
        feed = (await net.get("admin", "/v1/events", after=0, limit=1000)).json()["events"]
        reports = [e for e in feed if e["type"] == "DonorIdentityViewed"
                   and e["data"]["purpose"].startswith("subject access")]
        assert len(reports) == AT_ONCE // len(urls)


async def test_a_request_waits_for_a_connection_only_so_long(fresh_db: str,
                                                             make_key: KeyMaker) -> None:
    """Every connection held elsewhere: a read is a 503 problem after
    ``pool_acquire_timeout_s``, and an append still commits, on the writer's own
    connection."""
    settings = settings_for(fresh_db, pool_min_size=1, pool_max_size=POOL,
                            pool_acquire_timeout_s=0.5)
    async with open_services(settings) as services, app_and_client(services) as (_, client):
        net = await Net(client, make_key).setup()
        held = [await services.pool.acquire() for _ in range(POOL)]
        try:
            started = time.monotonic()
            refused = await client.post("/v1/donors", json=PEOPLE[0],
                                        headers=net.keys["collector@BB1"])
            waited = time.monotonic() - started
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"] == PROBLEM
            assert waited < 5, waited
            written = await services.writer.append(*_site_command())
            assert written.position > 0
        finally:
            for con in held:
                await services.pool.release(con)
        again = await client.post("/v1/donors", json=PEOPLE[0],
                                  headers=net.keys["collector@BB1"])
        assert again.status_code == 201, again.text


async def test_close_cuts_what_is_still_held(fresh_db: str) -> None:
    pool = await open_pool(fresh_db, min_size=1, max_size=2, acquire_timeout=0.5)
    con = await pool.acquire()
    pid = con.get_server_pid()
    started = time.monotonic()
    await close_pool(pool, grace=0.5)
    assert time.monotonic() - started < 5
    probe = await asyncpg.connect(fresh_db)
    try:
        for _ in range(50):  # the server notices the cut connection within moments
            if not await probe.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail(f"backend {pid} still there after the pool was closed")
    finally:
        await probe.close()


def _site_command() -> tuple:
    from datetime import UTC, datetime

    from app.api.body import command_from_json
    from app.events.messages import Actor

    raw = {"type": "SiteRegistered", "data": {"site_id": "BB9", "name": "Site BB9",
                                              "kind": "blood_bank", "region": "Homs"}}
    cmd, content, _ = command_from_json(raw, Actor(key_id="k-test", role="admin", site_id=None),
                                        datetime.now(UTC))
    return cmd, content
