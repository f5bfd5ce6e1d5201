"""Crypto-shredding through the real command line (issue 19 §5): ``bloodtrace donors shred``
destroys the data key, the shred is an event, the identity is gone for good (410), and
``verify`` and ``verify-export`` still pass while the donor's history reads under the
pseudonym. Also: a wrong master key or pepper stops the start with a clear error."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import asyncpg
import orjson
import pytest
import typer
from typer.testing import CliRunner

from app.bootstrap import open_services
from app.cli import donors, verifiable
from app.cli import verify as verify_command
from app.errors import VaultKeyMismatch
from app.signing_keys import load_signers
from tests.conftest import app_and_client, settings_for
from tests.e2e.api_world import Net, din
from tests.e2e.donor_people import person


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("verify")(verify_command)
    verifiable.register(app)
    donors.register(app)
    return app


async def invoke(*args: str) -> tuple[int, str]:
    """Run the command line in a thread (it runs its own event loop)."""
    result = await asyncio.to_thread(CliRunner().invoke, cli(), list(args))
    return result.exit_code, result.output


async def test_shredding_erases_the_identity_and_the_log_still_verifies(
        fresh_db, make_key, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    monkeypatch.setenv("BLOODTRACE_DATA_DIR", str(tmp_path))
    settings = settings_for(fresh_db, data_dir=tmp_path)
    async with open_services(settings) as services, app_and_client(services) as (_, client):
        net = await Net(client, make_key).setup()
        donor_id = (await client.post("/v1/donors", json=person(1),
                                      headers=net.keys["collector@BB1"])).json()["donor_id"]
        await net.screen(donor_id)
        await net.ok("collector@BB1", "DonationCollected", {
            "din": din(1), "donor_id": donor_id, "site_id": "BB1",
            "collection_type": "whole_blood", "product_code": "E0001V00",
            "category": "whole_blood", "volume_ml": 450})
        before = await net.get("admin", f"/v1/donors/{donor_id}/identity", purpose="check")
        assert before.status_code == 200
        keys = net.keys
    other = (await invoke("donors", "shred", "0" * 64, "--reason", "no such donor"))
    assert other[0] == 1 and "donor-identity-not-found" in other[1]

    code, out = await invoke("donors", "shred", donor_id, "--reason",
                             "erasure requested by the donor")
    assert code == 0, out
    assert orjson.loads(out.splitlines()[-1])["shredded"] is True
    again = await invoke("donors", "shred", donor_id, "--reason", "a second time")
    assert again[0] == 1 and "donor-identity-shredded" in again[1]

    con = await asyncpg.connect(fresh_db)
    try:
        row = await con.fetchrow("SELECT * FROM donor_vault WHERE donor_id = $1", donor_id)
        assert row["wrapped_key"] is None and row["ciphertext"] is None
        assert row["name_dob_index"] is None and row["shredded_at"] is not None
    finally:
        await con.close()

    async with open_services(settings) as services, app_and_client(services) as (_, client):
        net = Net(client, make_key)
        net.keys = keys
        for key in ("admin", "processing@BB1"):
            gone = await net.get(key, f"/v1/donors/{donor_id}/identity", purpose="check")
            assert gone.status_code == 410, gone.text
            assert gone.json()["type"].endswith("/donor-identity-shredded")
            assert (await net.get(key, f"/v1/donors/{donor_id}/report")).status_code == 410
        assert (await net.get("collector@BB1", "/v1/donors/search",
                              national_id=person(1)["national_id"])).json() == {"donors": []}
        again = await client.post("/v1/donors", json=person(1),
                                  headers=net.keys["collector@BB1"])
        assert again.status_code == 410
        # The history still reads under the pseudonym.
        donation = (await net.get("admin", f"/v1/donations/{din(1)}")).json()
        assert donation["donor_id"] == donor_id
        feed = (await net.get("admin", "/v1/events", after=0, limit=1000)).json()["events"]
        mine = [e["type"] for e in feed if e["data"].get("donor_id") == donor_id]
        assert mine[0] == "DonorRegistered" and "DonationCollected" in mine
        assert mine[-1] == "DonorIdentityShredded"
        shredded = [e for e in feed if e["type"] == "DonorIdentityShredded"]
        assert shredded[0]["data"]["reason"] == "erasure requested by the donor"
        assert shredded[0]["actor"]["role"] == "admin"

    code, out = await invoke("verify")
    assert code == 0 and orjson.loads(out.splitlines()[-1])["ok"], out
    exported = tmp_path / "export.jsonl"
    code, out = await invoke("export", "--out", str(exported))
    assert code == 0, out
    key = str(load_signers(settings)[0].verifier)
    code, out = await invoke("verify-export", str(exported), "--key", key)
    assert code == 0, out
    report = orjson.loads(out.splitlines()[-1])
    assert report["ok"] and report["checked"] > 10


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("changed", ["master_key", "pepper"])
async def test_a_wrong_vault_key_stops_the_start(fresh_db, tmp_path, changed):
    secrets = {"vault_master_key": _b64(b"m" * 32), "vault_pepper": _b64(b"p" * 32)}
    async with open_services(settings_for(fresh_db, data_dir=tmp_path, **secrets),
                             checkpoints=False) as services:
        assert services.vault is not None
    wrong = secrets | {f"vault_{changed}": _b64(b"w" * 32)}
    with pytest.raises(VaultKeyMismatch) as refused:
        async with open_services(settings_for(fresh_db, data_dir=tmp_path, **wrong),
                                 checkpoints=False):
            pytest.fail("the service started with a wrong vault key")
    assert "refusing to start" in refused.value.detail
    assert changed.replace("_", " ") in refused.value.detail
    # The right secrets still open it.
    async with open_services(settings_for(fresh_db, data_dir=tmp_path, **secrets),
                             checkpoints=False):
        pass


async def test_a_missing_named_key_file_stops_the_start(fresh_db, tmp_path):
    missing = Path(tmp_path) / "nowhere" / "master.key"
    with pytest.raises(VaultKeyMismatch, match="cannot read the vault master key"):
        async with open_services(settings_for(fresh_db, data_dir=tmp_path,
                                              vault_master_key_file=missing),
                                 checkpoints=False):
            pytest.fail("the service started without its master key")
    assert not missing.exists()  # a named file is never generated
