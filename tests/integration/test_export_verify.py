"""Export a real log, verify it offline; change history as a superuser and the offline verifier
names what changed. Also the HTTP routes and the CLI commands over the same log."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import orjson
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from app.cli.verifiable import register
from app.log import merkle
from app.log import notes as N
from app.log.bundle import verify_unit_bundle
from app.log.offline_parallel import verify_export_file
from app.store.export_reader import open_export
from tests.support.verifiable import ORIGIN, as_superuser, fill, verifiable_client

SIGNER = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"k" * 32))
KEYS = [SIGNER.verifier]
BATCHES = [37, 37, 37, 37, 37]  # checkpoints at 37, 74, 111, 148, 185


async def export(url: str, path: Path, first: int = 1, last: int | None = None) -> dict:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        with path.open("wb") as out:
            async for chunk in await open_export(pool, ORIGIN, first, last):
                out.write(chunk)
    finally:
        await pool.close()
    with path.open("rb") as lines:
        return orjson.loads(lines.readline())


async def test_an_export_of_a_real_log_verifies(fresh_db, open_for, tmp_path):
    await fill(open_for, fresh_db, BATCHES, SIGNER)
    await fill(open_for, fresh_db, [5], None)  # an unsigned tail stays out of the default export
    path = tmp_path / "all.jsonl"
    assert (await export(fresh_db, path))["to"] == 185
    report = verify_export_file(path, KEYS)
    assert (report.ok, report.checked, report.checkpoints, report.verified_to) == (
        True, 185, 5, 185)
    header = await export(fresh_db, path, first=50, last=60)  # rounded up to a checkpoint
    assert (header["from"], header["to"]) == (50, 74)
    assert verify_export_file(path, KEYS).ok
    await export(fresh_db, path, first=1, last=190)  # past the last checkpoint: unsigned tail
    report = verify_export_file(path, KEYS)
    assert (report.ok, report.first_bad_position) == (False, 186)


@pytest.mark.parametrize("sql, position, reason", [
    (["UPDATE events SET record = convert_to(replace(convert_from(record, 'UTF8'), "
      "'hello', 'hellp'), 'UTF8') WHERE position = 40"],
     40, "record 40 does not hash to its leaf hash"),
    (["DELETE FROM event_refs WHERE position = 40", "DELETE FROM events WHERE position = 40"],
     40, "record 40 is missing"),
    (["UPDATE events e SET record = o.record, leaf_hash = o.leaf_hash FROM events o "
      "WHERE (e.position, o.position) IN ((40, 41), (41, 40))"], 40,
     "record 40 does not hold its own position"),
    (["DELETE FROM event_refs WHERE position > 150", "DELETE FROM events WHERE position > 150"],
     151, "it was truncated"),
])
async def test_history_changed_as_superuser_fails_verify_export(
    fresh_db, open_for, tmp_path, sql, position, reason
):
    await fill(open_for, fresh_db, BATCHES, SIGNER)
    await as_superuser(fresh_db, *sql)
    path = tmp_path / "tampered.jsonl"
    await export(fresh_db, path)
    report = verify_export_file(path, KEYS)
    assert not report.ok and report.first_bad_position == position, report
    assert reason in report.reason


async def test_a_cut_back_log_is_refused_given_the_size_an_auditor_saw(fresh_db, open_for,
                                                                       tmp_path):
    await fill(open_for, fresh_db, BATCHES, SIGNER)
    await as_superuser(fresh_db, "DELETE FROM checkpoints WHERE size > 111",
                       "DELETE FROM event_refs WHERE position > 111",
                       "DELETE FROM events WHERE position > 111")
    path = tmp_path / "cut.jsonl"
    await export(fresh_db, path)
    assert verify_export_file(path, KEYS).ok  # consistent in itself ...
    report = verify_export_file(path, KEYS, min_size=185)  # ... but shorter than seen
    assert (report.ok, report.first_bad_position) == (False, 112)


async def test_http_routes_and_cli(fresh_db, open_for, tmp_path, make_key):
    await fill(open_for, fresh_db, BATCHES, SIGNER)
    auditor = await make_key("auditor")
    hospital = await make_key("hospital", "H1")
    async with open_for(fresh_db) as services, verifiable_client(services) as client:
        async with services.pool.acquire() as con:
            from app.store.checkpoint_store import register_keys

            await register_keys(con, [SIGNER])
        latest = (await client.get("/v1/checkpoints/latest")).json()
        assert latest["size"] == 185
        cp, _ = N.open_checkpoint(latest["note"], KEYS)
        note = await client.get("/v1/checkpoints/latest/note")
        assert note.text == latest["note"] and note.headers["content-type"].startswith("text/")
        proof = (await client.get("/v1/proofs/inclusion", params={"position": 100})).json()
        merkle.verify_inclusion(N.unb64(proof["leaf_hash"], ""), 99, 185,
                                [N.unb64(h, "") for h in proof["proof"]], cp.root)
        cons = (await client.get("/v1/proofs/consistency",
                                 params={"from_size": 74, "to_size": 185})).json()
        merkle.verify_consistency(74, 185, [N.unb64(h, "") for h in cons["proof"]],
                                  N.unb64(cons["from_root"], ""), cp.root)
        for path, params, status in [
            ("/v1/proofs/inclusion", {"position": 186}, 422),
            ("/v1/proofs/inclusion", {"position": 1, "tree_size": 999}, 404),
            ("/v1/proofs/consistency", {"from_size": 100, "to_size": 50}, 422),
            ("/v1/export", {"from": 999}, 422),
            ("/v1/proofs/units/nothing", {}, 404),
        ]:
            response = await client.get(path, params=params, headers=auditor)
            assert response.status_code == status, response.text
            assert response.headers["content-type"] == "application/problem+json"
        keys = (await client.get("/v1/keys")).json()
        assert [k["vkey"] for k in keys["keys"]] == [str(SIGNER.verifier)]
        # The export holds every pseudonym, a bundle a unit's whole story: not for anyone.
        assert (await client.get("/v1/export")).status_code == 401
        assert (await client.get("/v1/export", headers=hospital)).status_code == 403
        assert (await client.get("/v1/proofs/units/U1")).status_code == 401
        assert (await client.get("/v1/proofs/units/U1", headers=hospital)).status_code == 403
        bundle = (await client.get("/v1/proofs/units/U1", headers=auditor)).json()
        assert verify_unit_bundle(bundle, KEYS).ok and len(bundle["records"]) > 50
        body = (await client.get("/v1/export", params={"from": 1}, headers=auditor)).content
    assert b'"kind":"key"' in body
    exported = tmp_path / "http.jsonl"
    exported.write_bytes(body)
    (tmp_path / "bundle.json").write_bytes(orjson.dumps(bundle))
    cli_app = typer.Typer()
    register(cli_app)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["verify-export", str(exported), "--key", str(SIGNER.verifier)])
    assert ok.exit_code == 0, ok.output
    assert orjson.loads(ok.stdout.splitlines()[-1])["checked"] == 185
    keyfile = tmp_path / "keys.txt"
    keyfile.write_text(f"# the log\n{SIGNER.verifier}\n")
    unit = runner.invoke(cli_app, ["verify-unit", str(tmp_path / "bundle.json"),
                                   "--key", str(keyfile)])
    assert unit.exit_code == 0, unit.output
    exported.write_bytes(body.replace(b"hello", b"hellp", 1))
    bad = runner.invoke(cli_app, ["verify-export", str(exported), "--key", str(SIGNER.verifier)])
    assert bad.exit_code == 1 and orjson.loads(bad.stdout.splitlines()[-1])["first_bad_position"]
    stranger = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"s" * 32))
    exported.write_bytes(body)
    unknown = runner.invoke(cli_app, ["verify-export", str(exported),
                                      "--key", str(stranger.verifier)])
    assert unknown.exit_code == 1
    assert orjson.loads(unknown.stdout.splitlines()[-1])["bad_checkpoint"] == 37
