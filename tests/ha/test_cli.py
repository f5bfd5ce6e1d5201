"""``bloodtrace ha up``, ``ha status --json`` and ``ha down`` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import asyncpg
import orjson
import psutil

from tests.conftest import ROOT


def _bloodtrace(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


async def test_up_status_down(ha_prerequisites):
    directory = Path(tempfile.mkdtemp(prefix="bt-ha-cli-"))
    try:
        up = _bloodtrace("ha", "up", "--dir", str(directory))
        assert up.returncode == 0, up.stderr
        dsn = up.stdout.strip().splitlines()[-1]
        assert "target_session_attrs=read-write" in dsn

        status = _bloodtrace("ha", "status", "--dir", str(directory), "--json")
        assert status.returncode == 0, status.stderr
        report = orjson.loads(status.stdout)
        assert report["dsn"] == dsn
        assert sorted(n["role"] for n in report["nodes"]) == ["primary", "replica"]
        for node in report["nodes"]:
            assert set(node) >= {"name", "role", "pid", "port"}
            assert psutil.Process(node["pid"]).name() == "postgres"
        con = await asyncpg.connect(dsn)
        try:
            assert await con.fetchval("SELECT pg_is_in_recovery()") is False
            assert await con.fetchval("SHOW synchronous_standby_names")
        finally:
            await con.close()
        pids = [n["pid"] for n in report["nodes"]]
    finally:
        down = _bloodtrace("ha", "down", "--dir", str(directory))
    assert down.returncode == 0, down.stderr
    assert not directory.exists()
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
                   for p in pids)
    again = _bloodtrace("ha", "status", "--dir", str(directory))
    assert again.returncode == 1 and "no cluster" in again.stderr
