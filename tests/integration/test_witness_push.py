"""The log's tlog-witness client against the project's own witness server, run as a real
process (``bloodtrace witness serve``), on real PostgreSQL: checkpoints are pushed with the
consistency proof, the cosignatures stored and served, and the offline verifier holds an
export to ``--witness``/``--quorum``. A dropped cosignature and a witness that cosigned a
different root each fail, naming what failed; a 409 re-syncs; a dead witness is logged once."""

from __future__ import annotations

import asyncio
import logging
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

from app.bootstrap import open_services
from app.cli.verifiable import register
from app.log import notes as N
from app.log.bundle import verify_unit_bundle
from app.log.checkpoints import parse_private_keys, private_key_pem
from app.log.quorum import WitnessPolicy
from app.log.tlog_witness import Request
from app.store.checkpoint_store import make_checkpoint
from app.store.export_reader import open_export
from tests.conftest import settings_for
from tests.support.factories import note
from tests.support.verifiable import ORIGIN, UnitLedger, fill, verifiable_client
from tests.support.witness_process import WitnessProcess

LOG_KEY = Ed25519PrivateKey.from_private_bytes(b"L" * 32)
LOG = N.NoteSigner(ORIGIN, LOG_KEY)


@pytest.fixture
def witness(tmp_path: Path) -> Iterator[WitnessProcess]:
    process = WitnessProcess(tmp_path, [f"{ORIGIN}={LOG.verifier}"]).start()
    yield process
    process.stop()


def pushing(url: str, *witnesses: WitnessProcess | tuple[str, str], **extra):
    endpoints = [{"url": w.url, "vkey": w.vkey} if isinstance(w, WitnessProcess)
                 else {"url": w[0], "vkey": w[1]} for w in witnesses]
    settings = settings_for(url, witnesses=endpoints, signing_key=private_key_pem(LOG_KEY).decode(),
                            checkpoint_every_seconds=0.2, checkpoint_every_events=1000, **extra)
    return open_services(settings, domain=UnitLedger(), inline=())


async def cosigned_size(url: str, vkey: str, size: int, timeout: float = 15.0) -> None:
    """Wait until the witness's cosignature of the checkpoint at ``size`` is stored."""
    deadline = time.monotonic() + timeout
    con = await asyncpg.connect(url)
    try:
        while time.monotonic() < deadline:
            if await con.fetchval("SELECT count(*) FROM witness_cosignatures WHERE size = $1 "
                                  "AND witness = $2", size, vkey):
                return
            await asyncio.sleep(0.1)
    finally:
        await con.close()
    raise AssertionError(f"no cosignature by {vkey} at {size}")


async def export_to(url: str, path: Path) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        with path.open("wb") as out:
            async for chunk in await open_export(pool, ORIGIN, 1, None):
                out.write(chunk)
    finally:
        await pool.close()


def verify_export(path: Path, *extra: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["verify-export", str(path), "--key", str(LOG.verifier),
                                    "--workers", "1", *extra])


def verify_unit(path: Path, *extra: str):
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["verify-unit", str(path), "--key", str(LOG.verifier),
                                    *extra])


def edit_closing_note(path: Path, change) -> Path:
    lines = path.read_bytes().splitlines()
    last = orjson.loads(lines[-1])
    assert last["kind"] == "checkpoint"
    last["note"] = change(last["note"])
    out = path.with_name("edited-" + path.name)
    out.write_bytes(b"\n".join([*lines[:-1], orjson.dumps(last)]) + b"\n")
    return out


async def test_pushed_cosigned_served_and_verified_with_a_quorum(
    fresh_db, tmp_path, witness, make_key
):
    async with pushing(fresh_db, witness) as services:
        await services.writer.append_many([note(f"U{k % 3}", "a") for k in range(12)])
        await cosigned_size(fresh_db, witness.vkey, 12)
        await services.writer.append_many([note(f"U{k % 3}", "b") for k in range(9)])
        await cosigned_size(fresh_db, witness.vkey, 21)  # pushed with old 12 and a proof
        async with verifiable_client(services) as client:
            latest = (await client.get("/v1/checkpoints/latest")).json()
            assert (latest["size"], latest["cosignatures"], latest["witnessed"]) == (21, 1, True)
            served = (await client.get("/v1/checkpoints/latest/note")).text
            key = N.VerifierKey.parse(witness.vkey)
            assert N.open_checkpoint(served, [key])[0].size == 21
            assert N.open_checkpoint(served, [LOG.verifier])[0].size == 21
            auditor = await make_key("auditor")
            bundle = (await client.get("/v1/proofs/units/U0", headers=auditor)).json()
            audit = (await client.get("/v1/audit/verify", headers=auditor)).json()
            assert audit["ok"] and audit["latest_checkpoint"] == {
                "size": 21, "cosignatures": 1, "witness_quorum": 1, "witnessed": True}
            proofs = await client.get("/v1/proofs/units/U0?format=tlog-proof", headers=auditor)
            assert proofs.status_code == 200
            assert proofs.text.startswith("c2sp.org/tlog-proof@v1\n")
    policy = WitnessPolicy((key,), 1)
    assert verify_unit_bundle(bundle, [LOG.verifier], policy).ok
    other = N.NoteSigner("other.example/w", Ed25519PrivateKey.from_private_bytes(b"O" * 32),
                         N.COSIGNATURE_V1).verifier
    short = verify_unit_bundle(bundle, [LOG.verifier], WitnessPolicy((key, other), 2))
    assert not short.ok and "cosigned by 1 of the 2" in short.reason and str(other) in short.reason

    proof_file = tmp_path / "U0.tlog-proof"
    proof_file.write_text(proofs.text)
    unit = verify_unit(proof_file, "--witness", witness.vkey, "--quorum", "1")
    assert unit.exit_code == 0, unit.output
    assert orjson.loads(unit.stdout)["checked"] == len(bundle["records"]) == 7
    short_unit = verify_unit(proof_file, "--witness", witness.vkey, "--witness", str(other))
    assert short_unit.exit_code == 0  # quorum 1 of 2 pinned
    two_unit = verify_unit(proof_file, "--witness", witness.vkey, "--witness", str(other),
                           "--quorum", "2")
    assert two_unit.exit_code == 1 and "cosigned by 1 of the 2" in two_unit.stdout

    export = tmp_path / "export.jsonl"
    await export_to(fresh_db, export)
    passed = verify_export(export, "--witness", witness.vkey, "--quorum", "1")
    assert passed.exit_code == 0, passed.output
    assert orjson.loads(passed.stdout)["witness_quorum"] == 1
    two = verify_export(export, "--witness", witness.vkey, "--witness", str(other),
                        "--quorum", "2")
    assert two.exit_code == 1 and "cosigned by 1 of the 2" in two.stdout

    dropped = edit_closing_note(export, lambda n: "".join(
        line for line in n.splitlines(keepends=True) if "ngo.example/w" not in line))
    failed = verify_export(dropped, "--witness", witness.vkey, "--quorum", "1")
    assert failed.exit_code == 1
    assert "checkpoint 21: cosigned by 0 of the 1" in orjson.loads(failed.stdout)["reason"]

    # The same witness key, cosigning another tree of 21 records: a split view.
    wkey = parse_private_keys(witness.key_file.read_bytes())[0]
    wsigner = N.NoteSigner("ngo.example/w", wkey, N.COSIGNATURE_V1)
    forged_cp = N.Checkpoint(ORIGIN, 21, bytes(32), bytes(32))
    forged_line = wsigner.sign(forged_cp.body(), int(time.time())).line()
    swapped = edit_closing_note(export, lambda n: "".join(
        forged_line if "ngo.example/w" in line else line
        for line in n.splitlines(keepends=True)))
    failed = verify_export(swapped, "--witness", witness.vkey)
    assert failed.exit_code == 1
    reason = orjson.loads(failed.stdout)["reason"]
    assert f"the cosignature by witness {witness.vkey} does not verify" in reason


async def test_a_409_re_syncs_to_the_size_the_witness_holds(fresh_db, open_for, witness):
    await fill(open_for, fresh_db, [7], LOG)
    con = await asyncpg.connect(fresh_db)
    try:
        seven = await con.fetchval("SELECT note FROM checkpoints WHERE size = 7")
    finally:
        await con.close()
    # Another client of the log already brought the witness to 7: the log does not know.
    seeded = httpx.post(witness.url + "/add-checkpoint", content=Request(0, (), seven).body())
    assert seeded.status_code == 200
    async with pushing(fresh_db, witness) as services:
        await services.writer.append_many([note("U1", "c") for _ in range(5)])
        await cosigned_size(fresh_db, witness.vkey, 12)
        async with services.pool.acquire() as c:
            assert await c.fetchval("SELECT count(*) FROM witness_cosignatures") == 1


async def test_a_dead_witness_is_logged_once_and_backed_off(fresh_db, caplog):
    dead = ("http://127.0.0.1:9", N.NoteSigner(
        "dead.example/w", Ed25519PrivateKey.from_private_bytes(b"D" * 32),
        N.COSIGNATURE_V1).verifier.__str__())
    caplog.set_level(logging.WARNING, logger="app.witness.push")
    async with pushing(fresh_db, dead) as services:
        await services.writer.append_many([note("U1", "d") for _ in range(3)])
        async with services.pool.acquire() as con:
            await make_checkpoint(con, [LOG], ORIGIN)
        await asyncio.sleep(4)
    warnings = [r for r in caplog.records if r.name == "app.witness.push"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "unreachable" in warnings[0].getMessage()


async def test_a_witnessed_newer_checkpoint_shows_an_export_was_cut(fresh_db, tmp_path, witness):
    import hashlib

    async with pushing(fresh_db, witness) as services:
        await services.writer.append_many([note(f"U{k % 3}", "a") for k in range(12)])
        await cosigned_size(fresh_db, witness.vkey, 12)
        cut = tmp_path / "cut.jsonl"
        await export_to(fresh_db, cut)  # ends exactly at checkpoint 12
        await services.writer.append_many([note(f"U{k % 3}", "b") for k in range(8)])
        await cosigned_size(fresh_db, witness.vkey, 20)
    whole = tmp_path / "whole.jsonl"
    await export_to(fresh_db, whole)
    seen = httpx.get(f"{witness.url}/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
    latest = tmp_path / "latest.txt"
    latest.write_text(seen.text)

    alone = verify_export(cut, "--witness", witness.vkey)
    assert alone.exit_code == 0  # the file alone cannot show the cut
    shown = verify_export(cut, "--witness", witness.vkey, "--latest", str(latest))
    assert shown.exit_code == 0, shown.output
    report = orjson.loads(shown.stdout)
    assert (report["verified_to"], report["witnessed_size"], report["complete"]) == \
        (12, 20, False)
    assert "it was cut" in shown.stderr
    complete = orjson.loads(verify_export(whole, "--witness", witness.vkey, "--latest",
                                          str(latest)).stdout)
    assert (complete["ok"], complete["complete"]) == (True, True)

    # A head of the export's own size with another root, signed and cosigned: a fork.
    wkey = parse_private_keys(witness.key_file.read_bytes())[0]
    wsigner = N.NoteSigner("ngo.example/w", wkey, N.COSIGNATURE_V1)
    forked = N.add_signature(N.sign_checkpoint(N.Checkpoint(ORIGIN, 20, bytes(32), bytes(32)),
                                               [LOG]), wsigner, int(time.time()))
    latest.write_text(forked)
    fork = verify_export(whole, "--witness", witness.vkey, "--latest", str(latest))
    assert fork.exit_code == 1 and "fork: the witnessed checkpoint 20" in fork.stdout
