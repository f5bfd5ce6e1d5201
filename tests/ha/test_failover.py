"""The test a national operator would run (SCALE.md §1): sixteen writers append through the
API; the primary's postmaster gets SIGKILL; Patroni promotes the synchronous standby; the
service finds the new primary through its multi-host DSN with no restart. Nothing that got a
2xx may be lost, and every ``outcome: unknown`` retried with its event_id lands once.

A second test kills the standby instead: with synchronous replication (strict), no commit is
acknowledged while no standby holds it; writes resume once the standby is back.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from app.bootstrap import Services, open_services
from app.config import Settings
from app.ha import cluster as ha
from app.ha.cluster import Cluster
from app.store.keys import create_key
from tests.conftest import app_and_client
from tests.ha.checks import (
    assert_consistent,
    assert_log_matches,
    bloodtrace_verify,
    checkpoints_around,
    wait_standby_has,
)
from tests.ha.load import Load

STANDBY_AWAY_S = 4.0
"""How long the standby's Patroni is held before it may restart its PostgreSQL."""
RESUME_BOUND_S = 45.0
"""Longest appends may fail after the primary dies (Patroni: ttl 10, loop_wait 1)."""


def _settings(dsn: str, tmp_path: object, command_timeout_s: float = 10) -> Settings:
    return Settings(database_url=dsn, data_dir=tmp_path, pool_min_size=2, pool_max_size=20,
                    connect_timeout_s=2, command_timeout_s=command_timeout_s,
                    checkpoint_every_events=100, checkpoint_every_seconds=0.5, log_json=False)


async def _admin(dsn: str) -> dict[str, str]:
    con = await asyncpg.connect(dsn)
    try:
        return {"Authorization": f"Bearer {(await create_key(con, 'admin', None)).token}"}
    finally:
        await con.close()


@asynccontextmanager
async def loaded(settings: Settings, first: int) -> AsyncIterator[
        tuple[httpx.AsyncClient, Load, Services, Any]]:
    """The service on the cluster, sixteen writers appending through its API, and the first
    ``first`` of their events acknowledged."""
    assert settings.database_url is not None
    async with open_services(settings) as services:
        admin = await _admin(settings.database_url)
        async with app_and_client(services) as (app, http):
            load = Load(http, admin, writers=16)
            load.start()
            try:
                await load.wait_for(first, timeout_s=90)
                yield http, load, services, app
            finally:
                await load.finish()


def _kill_postmaster(cluster: Cluster, node: ha.Node) -> int:
    pid = ha.postmaster_pid(cluster, node)
    assert pid is not None, f"{node.name} has no running postmaster"
    os.kill(pid, signal.SIGKILL)
    return pid


async def test_sigkill_of_the_primary_loses_no_acknowledged_event(ha_cluster, ha_db, tmp_path):
    async with loaded(_settings(ha_db, tmp_path), first=300) as (http, load, _, app):
        old = ha.primary(ha_cluster)
        assert old is not None
        killed_at = datetime.now(UTC)
        killed = time.monotonic()
        await asyncio.to_thread(_kill_postmaster, ha_cluster, old)
        promoted = asyncio.create_task(_promotion(ha_cluster, old))
        await load.wait_for(1, timeout_s=RESUME_BOUND_S, since=killed)
        first = min(a.done for a in load.acks if a.sent > killed)
        new, promoted_at = await promoted
        await load.wait_for(300, timeout_s=90, since=killed)
        await load.finish()
        window = first - killed
        gap = load.longest_gap(killed - 1, time.monotonic())
        print(f"\nfailover: {old.name} killed, {new.name} promoted "
              f"{promoted_at - killed:.2f}s after; the "
              f"first append sent after the kill was acknowledged {window:.2f}s after it "
              f"(bound {RESUME_BOUND_S:.0f}s); longest time with no acknowledgement "
              f"{gap:.2f}s; {len(load.unknown)} commands answered outcome:unknown; "
              f"503 answers by rule: {dict(load.rules)}")
        assert window < RESUME_BOUND_S

        # The feed notifier listens on the new primary by itself: a NOTIFY reaches it.
        watcher = app.state.log_watcher
        deadline = time.monotonic() + 30
        while not watcher.listening:
            assert time.monotonic() < deadline, "the feed notifier did not reconnect"
            await asyncio.sleep(0.1)
        last = await load.land({"type": "DonorRegistered", "event_id": str(uuid.uuid4()),
                                "data": {"donor_id": "DNR-AFTER-FAILOVER"}})
        while watcher.head < last:
            assert time.monotonic() < deadline, f"no NOTIFY of {last} reached the watcher"
            await asyncio.sleep(0.05)

        size = await assert_log_matches(ha_db, load)
        assert size == len({a.event_id for a in load.acks}) >= 600
        before, after = await checkpoints_around(ha_db, killed_at)
        await assert_consistent(http, before, after)
        print(f"checkpoints: {before.size} (last before the failover) -> {after.size} "
              f"(first after): consistent")
    await asyncio.to_thread(bloodtrace_verify, ha_db)
    # The old primary rejoins as the synchronous standby and holds the same log.
    await asyncio.to_thread(ha.wait_healthy, ha_cluster, 120)
    await wait_standby_has(_standby_dsn(ha_cluster, ha_db), size)


async def _promotion(cluster: Cluster, old: ha.Node) -> tuple[ha.Node, float]:
    """The node Patroni promotes in place of ``old``, and when it reports so."""
    deadline = time.monotonic() + RESUME_BOUND_S
    while True:
        new = await asyncio.to_thread(ha.primary, cluster)
        if new is not None and new.name != old.name:
            return new, time.monotonic()
        assert time.monotonic() < deadline, "Patroni promoted no standby"
        await asyncio.sleep(0.1)


def _standby_dsn(cluster: Cluster, primary_dsn: str) -> str:
    database = primary_dsn.split("/", 3)[3].split("?")[0]
    return cluster.dsn(database, attrs="standby")


async def test_writes_wait_while_the_standby_is_down_and_resume(ha_cluster, ha_db, tmp_path):
    # Statements time out after 1.5 s, less than the standby is away: a commit
    # that waits that long for it is given up by the writer, which cannot know whether it
    # landed (PostgreSQL keeps it locally): those answer outcome-unknown, and their retries
    # (replays) too wait for the standby.
    async with loaded(_settings(ha_db, tmp_path, command_timeout_s=1.5), first=200) as (
            _, load, _, _):
        primary = ha.primary(ha_cluster)
        assert primary is not None
        standby = next(n for n in ha_cluster.nodes if n.name != primary.name)
        # The standby's Patroni is paused for a few seconds (well within its ttl), so the
        # standby stays down longer than a statement may take, whatever the machine's speed.
        os.kill(standby.patroni_pid, signal.SIGSTOP)
        try:
            killed = time.monotonic()
            pid = await asyncio.to_thread(_kill_postmaster, ha_cluster, standby)
            await asyncio.sleep(STANDBY_AWAY_S)
        finally:
            os.kill(standby.patroni_pid, signal.SIGCONT)
        # Patroni restarts the standby's PostgreSQL; note when its new postmaster exists.
        deadline = time.monotonic() + 60
        while (ha.postmaster_pid(ha_cluster, standby) or pid) == pid:
            assert time.monotonic() < deadline, "Patroni did not restart the standby"
            await asyncio.sleep(0.05)
        restarted = time.monotonic()
        await load.wait_for(200, timeout_s=RESUME_BOUND_S + 60, since=restarted)
        await load.finish()
        resumed = min(a.done for a in load.acks if a.sent > killed + 1.0)
        # Synchronous and strict: nothing sent once the standby was dead is acknowledged
        # before a standby process even exists again.
        early = [a for a in load.acks if a.sent > killed + 1.0 and a.done < restarted]
        replays = sum(a.replayed and a.after_unknown for a in load.acks)
        assert not early, f"{len(early)} acknowledged with no standby: {early[:3]}"
        print(f"\nstandby {standby.name} killed (its Patroni held {STANDBY_AWAY_S:.0f}s): its "
              f"PostgreSQL was restarted after "
              f"{restarted - killed:.2f}s; appends were acknowledged again "
              f"{resumed - killed:.2f}s after the kill; 503 answers by rule: "
              f"{dict(load.rules)}; {replays} retries answered with the original result")
        assert resumed - killed < RESUME_BOUND_S
        assert load.rules["outcome-unknown"] > 0, "no commit was caught waiting"
        assert ha.primary(ha_cluster) == primary  # no failover for a standby's death
        size = await assert_log_matches(ha_db, load)
    await asyncio.to_thread(ha.wait_healthy, ha_cluster, 120)
    await wait_standby_has(_standby_dsn(ha_cluster, ha_db), size)
    await asyncio.to_thread(bloodtrace_verify, ha_db)
