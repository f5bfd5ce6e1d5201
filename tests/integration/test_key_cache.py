"""The key cache against real PostgreSQL (``app.api.key_cache``, ``app.api.log_watch``): a
revocation announced by the key table's trigger empties it, it is not trusted while its
listening connection is down, and a look-up that raced a revocation is not kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from app.api.key_cache import KeyCache
from app.api.log_watch import LISTENER_NAME, LogWatcher
from app.events.messages import Actor
from app.store.keys import create_key

AUDITOR = Actor(key_id="k", role="auditor", site_id=None)


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.fixture
async def watched(fresh_db: str) -> AsyncIterator[tuple[KeyCache, asyncpg.Connection]]:
    cache = KeyCache()
    watcher = LogWatcher(fresh_db, cache, retry_seconds=0.2, probe_seconds=0.5)
    assert not cache.trusted  # nothing is trusted before the channel is heard
    await watcher.start()
    con = await asyncpg.connect(fresh_db)
    try:
        await _until(lambda: cache.trusted)
        yield cache, con
    finally:
        await con.close()
        await watcher.stop()


async def test_the_trigger_announces_a_revocation_and_the_cache_drops_that_key(watched) -> None:
    cache, con = watched
    revoked, kept = await create_key(con, "auditor", None), await create_key(con, "admin", None)
    cache.put(revoked.token, Actor(revoked.key_id, "auditor", None), cache.generation)
    cache.put(kept.token, Actor(kept.key_id, "admin", None), cache.generation)
    await con.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1",
                      revoked.key_id)
    await _until(lambda: cache.get(revoked.token) is None)
    assert cache.get(kept.token) == Actor(kept.key_id, "admin", None)


async def test_deleting_or_emptying_the_key_table_is_announced_too(watched) -> None:
    cache, con = watched
    one, two = await create_key(con, "auditor", None), await create_key(con, "admin", None)
    for key in (one, two):
        cache.put(key.token, Actor(key.key_id, key.role, None), cache.generation)
    await con.execute("DELETE FROM api_keys WHERE key_id = $1", one.key_id)
    await _until(lambda: cache.get(one.token) is None)
    assert cache.get(two.token) is not None
    await con.execute("TRUNCATE api_keys")
    await _until(lambda: cache.get(two.token) is None)


async def test_while_the_listening_connection_is_down_nothing_cached_is_trusted(
        watched) -> None:
    cache, con = watched
    cache.put("token", AUDITOR, cache.generation)
    assert cache.get("token") == AUDITOR
    killed = await con.fetchval(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = $1 AND datname = current_database()", LISTENER_NAME)
    assert killed == 1
    await _until(lambda: not cache.trusted)
    assert cache.get("token") is None
    # Kept only for when the database cannot be asked either (``actor_of``).
    assert cache.stale("token") == AUDITOR
    cache.put("token", AUDITOR, cache.generation)  # a look-up made meanwhile is not trusted
    assert cache.get("token") is None
    # Back, with an empty cache: what was announced while it was down was missed.
    await _until(lambda: cache.trusted)
    assert cache.get("token") is None and cache.stale("token") is None


def test_a_look_up_that_raced_a_revocation_or_the_connection_is_not_kept() -> None:
    cache = KeyCache()
    cache.listening(True)
    before = cache.generation  # the look-up reads the key, then the revocation is heard
    cache.revoked("some-other-key")
    cache.put("token", AUDITOR, before)
    assert cache.get("token") is None and cache.stale("token") is None
    cache.put("token", AUDITOR, cache.generation)
    assert cache.get("token") == AUDITOR
    before = cache.generation
    cache.listening(False)
    cache.listening(True)
    cache.put("token", AUDITOR, before)
    assert cache.stale("token") is None
