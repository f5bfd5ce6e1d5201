"""A real cluster for the high-availability tests: etcd and two PostgreSQL nodes under
Patroni (``bloodtrace ha up``), in a temporary directory, always stopped and removed after.

The cluster's prerequisites install themselves: Debian's ``etcd-server`` (apt-get) and
Patroni (a dev dependency, so ``make install`` brings it). Only when one of them genuinely
cannot be had are the tests skipped, and never in CI (``CI=true``), where that fails loudly.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from app.ha import cluster as ha
from app.ha.cluster import Cluster, ClusterError, Timings

TIMINGS = Timings(ttl=10, loop_wait=1, retry_timeout=4)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the HA cluster cannot be set up in CI: {reason}")
    pytest.skip(f"the HA cluster cannot be set up here: {reason}")


@pytest.fixture(scope="package")
def ha_prerequisites() -> None:
    """Patroni importable and etcd installed (with apt-get when missing)."""
    try:
        import patroni  # noqa: F401
    except ImportError:
        _unavailable("Patroni is not installed (make install brings patroni[etcd3,psycopg3])")
    try:
        ha.ensure_etcd()
    except ClusterError as exc:
        _unavailable(str(exc))


@pytest.fixture(scope="package")
def ha_cluster(ha_prerequisites: None) -> Iterator[Cluster]:
    # Not pytest's tmp_path: the PostgreSQL user must reach it (up() opens the prefix).
    directory = Path(tempfile.mkdtemp(prefix="bt-ha-"))
    try:
        cluster = ha.up(directory, timings=TIMINGS, timeout_s=150)
        yield cluster
    finally:
        ha.down(directory)


@pytest.fixture
async def ha_db(ha_cluster: Cluster) -> AsyncIterator[str]:
    """A new database on the cluster (through the primary); its multi-host DSN."""
    ha.wait_healthy(ha_cluster, timeout_s=120)
    name = f"bt_ha_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(ha_cluster.dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    # A multi-host DSN tries the hosts in order, and a standby that has not replayed the
    # CREATE DATABASE yet answers "does not exist" rather than "try the next host".
    await _wait_on_every_node(ha_cluster, name)
    yield ha_cluster.dsn(name)
    ha.wait_healthy(ha_cluster, timeout_s=120)
    admin = await asyncpg.connect(ha_cluster.dsn())
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _wait_on_every_node(cluster: Cluster, database: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    for node in cluster.nodes:
        while True:
            con = await asyncpg.connect(host="127.0.0.1", port=node.pg_port, user="postgres",
                                        database="postgres")
            try:
                found = await con.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                           database)
            finally:
                await con.close()
            if found:
                break
            assert time.monotonic() < deadline, f"{node.name} never showed {database}"
            await asyncio.sleep(0.1)
