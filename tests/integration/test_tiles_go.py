"""The served tlog-tiles, and a static ``export-tiles`` tree, read by Go's reference
``golang.org/x/mod/sumdb/tlog`` (its TileHashReader authenticates each tile against the signed
root) and by ``verify-export DIR``: inclusion and consistency proofs check out, the service's
add-checkpoint consistency proof too, and a tampered tile or entry fails, naming it."""

from __future__ import annotations

import asyncio
import subprocess
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
from app.log import notes as N
from app.log.checkpoints import private_key_pem
from app.log.tiles import unbundle
from app.log.tlog_witness import Request
from app.store.keys import create_key
from app.store.proof_reader import consistency_proof
from tests.support.go_checker import build_checker
from tests.support.server import ServerProcess
from tests.support.verifiable import ORIGIN, fill

LOG_KEY = Ed25519PrivateKey.from_private_bytes(b"L" * 32)
LOG = N.NoteSigner(ORIGIN, LOG_KEY)


@pytest.fixture(scope="module")
def tlogcheck(tmp_path_factory) -> Path:
    return build_checker(tmp_path_factory.mktemp("go"))


@pytest.fixture
def server(fresh_db) -> Iterator[ServerProcess]:
    process = ServerProcess(fresh_db, BLOODTRACE_SIGNING_KEY=private_key_pem(LOG_KEY).decode())
    yield process
    process.stop()


def go(tlogcheck: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(tlogcheck), *args], capture_output=True, text=True, timeout=120)


def cli(*args: str, env: dict[str, str] | None = None):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, list(args), env=env)


async def test_go_reads_the_served_tiles_and_checks_proofs(
    fresh_db, open_for, server, tlogcheck, tmp_path
):
    await fill(open_for, fresh_db, [300, 330], LOG)  # checkpoints at 300 and 630
    con = await asyncpg.connect(fresh_db)
    try:
        token = (await create_key(con, "auditor", None)).token
        proof = (await consistency_proof(con, 300, 630)).proof
        note = await con.fetchval("SELECT note FROM checkpoints WHERE size = 630")
        records = [bytes(r[0]) for r in await con.fetch(
            "SELECT record FROM events WHERE position > 256 AND position <= 512 "
            "ORDER BY position")]
    finally:
        await con.close()
    server.start()
    ok = go(tlogcheck, "-auth", token, server.base_url, str(LOG.verifier))
    assert ok.returncode == 0 and ok.stdout.strip() == "ok 630", ok.stderr

    body = tmp_path / "add.txt"
    body.write_bytes(Request(300, tuple(proof), note).body())
    pushed = go(tlogcheck, "-auth", token, "-add", str(body), server.base_url, str(LOG.verifier))
    assert pushed.returncode == 0, pushed.stderr
    body.write_bytes(Request(300, (*proof[:-1], bytes(32)), note).body())
    bad = go(tlogcheck, "-auth", token, "-add", str(body), server.base_url, str(LOG.verifier))
    assert bad.returncode == 1 and "add-checkpoint consistency 300..630" in bad.stderr

    with httpx.Client(base_url=server.base_url) as client:
        full = client.get("/tile/0/001")
        assert full.status_code == 200 and len(full.content) == 8192
        assert full.headers["content-type"] == "application/octet-stream"
        assert "immutable" in full.headers["cache-control"]
        partial = client.get("/tile/0/002.p/118")
        assert partial.status_code == 200 and len(partial.content) == 118 * 32
        assert partial.headers["cache-control"] == "public, max-age=5"
        assert client.get("/tile/1/000.p/2").status_code == 200
        assert client.get("/tile/0/002.p/119").status_code == 404  # beyond the checkpoint
        assert client.get("/tile/0/003").status_code == 404
        assert client.get("/tile/0/1").status_code == 404
        assert client.get("/tile/entries/001").status_code == 401
        bundle = client.get("/tile/entries/001", headers={"Authorization": f"Bearer {token}"})
        assert unbundle(bundle.content, 256) == records  # the exact bytes that were hashed
        checkpoint = client.get("/checkpoint")
        assert checkpoint.headers["content-type"] == "text/plain; charset=utf-8"
        assert N.open_checkpoint(checkpoint.text, [LOG.verifier])[0].size == 630


async def test_export_tiles_writes_a_tree_go_and_verify_export_accept_and_tampering_fails(
    fresh_db, open_for, tlogcheck, tmp_path
):
    await fill(open_for, fresh_db, [300, 330], LOG)
    tree = tmp_path / "mirror"
    made = await asyncio.to_thread(cli, "export-tiles", str(tree), env={"DATABASE_URL": fresh_db})
    assert made.exit_code == 0, made.output
    assert (tree / "tile/0/002.p/118").is_file() and (tree / "tile/entries/000").is_file()
    assert go(tlogcheck, str(tree), str(LOG.verifier)).returncode == 0
    passed = cli("verify-export", str(tree), "--key", str(LOG.verifier))
    assert passed.exit_code == 0, passed.output
    assert orjson.loads(passed.stdout)["verified_to"] == 630

    tile = tree / "tile/0/001"
    original = tile.read_bytes()
    tile.write_bytes(original[:100] + bytes([original[100] ^ 1]) + original[101:])
    goes = go(tlogcheck, str(tree), str(LOG.verifier))
    assert goes.returncode == 1 and "FAIL" in goes.stderr
    failed = cli("verify-export", str(tree), "--key", str(LOG.verifier))
    assert failed.exit_code == 1
    assert "tile/0/001: hash 3 is not the tree hash" in orjson.loads(failed.stdout)["reason"]
    tile.write_bytes(original)

    entries = tree / "tile/entries/000"
    data = entries.read_bytes()
    entries.write_bytes(data.replace(b"hello", b"HELLO", 1))
    failed = cli("verify-export", str(tree), "--key", str(LOG.verifier))
    assert failed.exit_code == 1
    assert "differs from checkpoint 630" in orjson.loads(failed.stdout)["reason"]
