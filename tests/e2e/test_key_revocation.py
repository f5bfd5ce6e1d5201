"""Revoking an API key takes effect at once in every server process (issue 16): each process
caches the keys it has verified and drops one the moment its revocation commits (LISTEN/
NOTIFY on the key table). Two real server processes share one database: the key is verified
(and cached) by both, revoked through one, and the very next request on the other is a 401.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from app.store.keys import create_key
from tests.support.server import ServerProcess

FEED = "/v1/events?limit=1"
HEARD_WITHIN_S = 1.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def two_servers(fresh_db: str) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    servers = [ServerProcess(fresh_db), ServerProcess(fresh_db)]
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))
        async with httpx.AsyncClient(base_url=servers[0].base_url, timeout=10) as one, \
                httpx.AsyncClient(base_url=servers[1].base_url, timeout=10) as other:
            yield one, other
    finally:
        for server in servers:
            server.stop()


async def _keys(url: str, *roles: str) -> list[tuple[str, str]]:
    con = await asyncpg.connect(url)
    try:
        return [((k := await create_key(con, role, None)).key_id, k.token) for role in roles]
    finally:
        await con.close()


async def _verified_by_both(token: str, *clients: httpx.AsyncClient) -> None:
    for client in clients:
        for _ in range(2):  # the second answer comes from the process's cache
            assert (await client.get(FEED, headers=bearer(token))).status_code == 200


async def test_a_key_revoked_through_one_process_is_refused_by_the_other_at_once(
        fresh_db: str, two_servers: tuple[httpx.AsyncClient, ...]) -> None:
    one, other = two_servers
    (_, admin), (key_id, token) = await _keys(fresh_db, "admin", "auditor")
    await _verified_by_both(token, one, other)
    assert (await one.delete(f"/v1/admin/keys/{key_id}",
                             headers=bearer(admin))).status_code == 204
    refused = await other.get(FEED, headers=bearer(token))
    assert refused.status_code == 401, refused.text
    assert refused.json()["rule"] == "unauthenticated"
    assert (await one.get(FEED, headers=bearer(token))).status_code == 401
    # The admin key, verified alongside, is untouched.
    assert (await other.get(FEED, headers=bearer(admin))).status_code == 200


async def test_a_key_revoked_in_the_database_is_refused_by_every_process_at_once(
        fresh_db: str, two_servers: tuple[httpx.AsyncClient, ...]) -> None:
    """Revoked by the operator in SQL: the announcement reaches each process as its
    transaction commits, with no client round trip before the next request to absorb the
    delivery, so each process is polled (every 5 ms) and must refuse within HEARD_WITHIN_S;
    the cache of the old design kept a revoked key for 30 s."""
    one, other = two_servers
    [(key_id, token)] = await _keys(fresh_db, "auditor")
    await _verified_by_both(token, one, other)
    con = await asyncpg.connect(fresh_db)
    try:
        await con.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1", key_id)
    finally:
        await con.close()
    started = time.monotonic()
    for client in (other, one):
        while (await client.get(FEED, headers=bearer(token))).status_code != 401:
            assert time.monotonic() - started < HEARD_WITHIN_S
            await asyncio.sleep(0.005)
