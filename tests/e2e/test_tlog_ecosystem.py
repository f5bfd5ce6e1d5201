"""Acceptance of issue 17 end to end, with real processes: a fresh demo network, served by
``bloodtrace serve``, pushes its checkpoints to a witness started with ``bloodtrace witness
serve``; Go's reference reader accepts its tiles and opens its cosigned checkpoint; and
``verify-export --witness … --quorum 1`` passes on its export."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import orjson
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from app.cli.verifiable import register
from app.config import Settings
from app.log import notes as N
from app.log.checkpoints import private_key_pem
from app.sim.demo import load_demo_if_empty
from app.store.keys import create_key
from tests.support.go_checker import build_checker
from tests.support.server import ServerProcess
from tests.support.witness_process import WitnessProcess

ORIGIN = "bloodtrace.dev/log"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(b"A" * 32)
LOG = N.NoteSigner(ORIGIN, LOG_KEY)
PEM = private_key_pem(LOG_KEY).decode()


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessProcess]:
    process = WitnessProcess(tmp_path, [f"{ORIGIN}={LOG.verifier}"], "directorate.example/w")
    yield process.start()
    process.stop()


async def test_a_demo_network_is_tiled_cosigned_and_verified(fresh_db, tmp_path, witness):
    witnesses = orjson.dumps([{"url": witness.url, "vkey": witness.vkey}]).decode()
    await load_demo_if_empty(Settings(database_url=fresh_db, signing_key=PEM,
                                      witnesses=[{"url": witness.url, "vkey": witness.vkey}]))
    server = ServerProcess(fresh_db, BLOODTRACE_SIGNING_KEY=PEM, BLOODTRACE_WITNESSES=witnesses,
                           BLOODTRACE_WITNESS_QUORUM="1")
    server.start()
    try:
        con = await asyncpg.connect(fresh_db)
        try:
            token = (await create_key(con, "auditor", None)).token
            size = await con.fetchval("SELECT max(size) FROM checkpoints")
            deadline = time.monotonic() + 30
            while not await con.fetchval("SELECT count(*) FROM witness_cosignatures "
                                         "WHERE size = $1", size):
                assert time.monotonic() < deadline, "the latest checkpoint was not cosigned"
                await asyncio.sleep(0.2)
        finally:
            await con.close()
        auth = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as client:
            latest = (await client.get("/v1/checkpoints/latest")).json()
            assert (latest["size"], latest["cosignatures"], latest["witnessed"]) == \
                (size, 1, True)
            export = tmp_path / "export.jsonl"
            async with client.stream("GET", "/v1/export", headers=auth) as response:
                assert response.status_code == 200
                with export.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
        tlogcheck = build_checker(tmp_path)
        checked = await asyncio.create_subprocess_exec(
            str(tlogcheck), "-auth", token, server.base_url, str(LOG.verifier),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, errors = await checked.communicate()
        assert checked.returncode == 0, errors.decode()
        assert out.decode().strip() == f"ok {size}"  # the cosigned /checkpoint opened in Go
    finally:
        server.stop()
    app = typer.Typer()
    register(app)
    result = await asyncio.to_thread(CliRunner().invoke, app, [
        "verify-export", str(export), "--key", str(LOG.verifier), "--witness", witness.vkey,
        "--quorum", "1"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.stdout)
    assert (report["ok"], report["verified_to"], report["witness_quorum"]) == (True, size, 1)
