"""Every pooled connection, on the primary and the read pool, keeps the session defaults the
service sets (a transaction left open by a dead peer ends and frees its locks), not only on
its first use: asyncpg resets a connection with ``RESET ALL`` whenever it goes back."""

from __future__ import annotations

from app.bootstrap import open_services
from tests.conftest import settings_for


async def test_idle_in_transaction_timeout_survives_the_pool_reset(fresh_db):
    async with open_services(settings_for(fresh_db, read_database_url=fresh_db)) as services:
        assert services.read_pool is not None
        for pool in (services.pool, services.read_pool):
            for _ in range(3):  # handed out and reset three times
                async with pool.acquire() as con:
                    value = await con.fetchval("SHOW idle_in_transaction_session_timeout")
                    assert value == "1min"
                    await con.execute("SET idle_in_transaction_session_timeout = 0")
