"""Units, donations, patients, stock and lookbacks over HTTP, on a network built through the
API itself."""

from __future__ import annotations

import base64

from app.events.isbt import check_character
from app.log import merkle
from tests.e2e.api_world import PLASMA, PROBLEM, RED_CELLS, Net, din


async def test_unit_state_history_and_provenance_with_verifiable_proofs(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1)
    await net.transfuse(red, "PAT-0001")

    unit = (await net.get("hospital@H1", f"/v1/units/{red}")).json()
    assert (unit["unit_id"], unit["status"], unit["abo"], unit["rhd"]) == (
        red, "transfused", "O", "NEG")
    assert [p["unit_id"] for p in unit["parents"]] == [f"{din(1)}-E0001V00"]
    assert {t["marker"] for t in unit["tests"]} >= {"HIV", "ABO", "RHD"}

    history = (await net.get("hospital@H1", f"/v1/units/{red}/history")).json()["events"]
    types = [e["type"] for e in history]
    assert types[0] == "UnitSplit" and types[-1] == "UnitTransfused"
    assert [e["position"] for e in history] == sorted(e["position"] for e in history)
    assert all(e["leaf_hash"] and e["chain_hash"] for e in history)

    prov = (await net.get("hospital@H1", f"/v1/units/{red}/provenance")).json()
    assert prov["donors"] == ["DNR-00001"]
    assert prov["fate"]["fate"] == "transfused"
    assert prov["fate"]["recipient_patient_id"] == "PAT-0001"
    assert [c["site_id"] for c in prov["custody"] if c["kind"] != "transit"][-1] == "H1"
    assert prov["events"] and {e["inclusion"]["signed"] for e in prov["events"]} <= {True, False}
    for event in prov["events"]:
        proof = event["inclusion"]
        merkle.verify_inclusion(
            base64.b64decode(event["leaf_hash"]), proof["leaf_index"], proof["tree_size"],
            [base64.b64decode(h) for h in proof["audit_path"]],
            base64.b64decode(proof["root_hash"]))


async def test_unit_ids_and_dins_accept_every_isbt_form(client, make_key):
    net = await Net(client, make_key).setup()
    whole = await net.collect(7)
    bare = din(7)
    checked = bare + check_character(bare)
    for form in (bare, checked, f"={bare}00"):
        donation = await net.get("collector@BB1", f"/v1/donations/{form}")
        assert donation.status_code == 200, (form, donation.text)
        assert donation.json()["din"] == bare
        assert [c["unit_id"] for c in donation.json()["components"]] == [whole]
    unit = await net.get("admin", f"/v1/units/{checked}-E0001V00")
    assert unit.status_code == 200 and unit.json()["unit_id"] == whole

    wrong = bare + ("A" if check_character(bare) != "A" else "B")
    response = await net.get("admin", f"/v1/donations/{wrong}")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["rule"] == "din-check-character"
    assert response.json()["field"] == "din"
    missing = await net.get("admin", f"/v1/donations/{din(99)}")
    assert (missing.status_code, missing.json()["rule"]) == (404, "donation-not-found")
    bad = await net.get("admin", "/v1/units/nonsense-nonsense-X")
    assert (bad.status_code, bad.json()["field"]) == (422, "unit_id")


async def test_stock_counts_fefo_and_site_scope(client, make_key):
    net = await Net(client, make_key).setup()
    red, plasma = await net.split(await net.collect(1))
    await net.test_all(din(1), "A", "POS")
    await net.ok("processing@BB1", "UnitReleased", {"unit_id": red})
    page = (await net.get("inventory@BB1", "/v1/stock", limit=1)).json()
    assert len(page["units"]) == 1 and page["next_after"] == page["units"][0]["unit_id"]
    rest = (await net.get("inventory@BB1", "/v1/stock", limit=1,
                          after=page["next_after"])).json()
    assert {page["units"][0]["unit_id"], rest["units"][0]["unit_id"]} == {red, plasma}
    assert page["units"][0]["expires_at"] <= rest["units"][0]["expires_at"]  # FEFO
    assert sum(c["total"] for c in page["counts"]) == 2
    released = (await net.get("admin", "/v1/stock", site="BB1", abo="a", rhd="+",
                              status="released")).json()
    assert [u["unit_id"] for u in released["units"]] == [red]
    other = await net.get("hospital@H1", "/v1/stock", site="BB1")
    assert (other.status_code, other.json()["rule"]) == (403, "site-scope")
    assert (await net.get("hospital@H1", "/v1/stock")).json()["units"] == []
    assert (await net.get("admin", "/v1/stock/near-expiry", hours=72)).status_code == 200
    assert (await net.get("admin", "/v1/stock/cover")).status_code == 200


async def test_patient_units_and_their_site_scope(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1)
    await net.transfuse(red, "PAT-0009")
    mine = (await net.get("hospital@H1", "/v1/patients/PAT-0009/units")).json()
    assert [(u["unit_id"], u["received"]) for u in mine["units"]] == [(red, True)]
    assert [a["action"] for a in mine["units"][0]["actions"]] == [
        "reserved", "issued", "transfused"]
    assert (await net.get("hospital@H2", "/v1/patients/PAT-0009/units")).json()["units"] == []
    assert (await net.get("auditor", "/v1/patients/PAT-0009/units")).json()["units"]
    assert (await net.get("lab@LAB1", "/v1/patients/PAT-0009/units")).status_code == 403


async def test_lookback_finds_units_with_custodian_or_recipient(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1)
    await net.transfuse(red, "PAT-0001")
    plasma = f"{din(1)}-{PLASMA}"
    started = await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                                headers=net.keys["lab@LAB1"])
    assert started.status_code == 201, started.text
    body = started.json()
    units = {u["unit_id"]: u for u in body["units"]}
    assert set(units) == {f"{din(1)}-E0001V00", red, plasma}
    # The lab that started it sees every unit and holder, but no hospital's patient (issue 20).
    assert units[red]["patient_id"] is None
    assert units[plasma]["custodian_site_id"] == "BB1"
    assert body["quarantine_positions"]  # the plasma still in stock was quarantined
    plasma_state = (await net.get("admin", f"/v1/units/{plasma}")).json()
    assert plasma_state["status"] == "quarantined"
    whole = (await net.get("admin", f"/v1/lookbacks/{body['lookback_id']}")).json()
    assert {u["unit_id"]: u["patient_id"] for u in whole["units"]}[red] == "PAT-0001"

    # The treating hospital sees its own part, its patient included.
    again = await net.get("hospital@H1", f"/v1/lookbacks/{body['lookback_id']}")
    assert again.status_code == 200 and again.json()["lookback_id"] == body["lookback_id"]
    assert [(u["unit_id"], u["patient_id"]) for u in again.json()["units"]] == [
        (red, "PAT-0001")]
    assert (await net.get("hospital@H2", f"/v1/lookbacks/{body['lookback_id']}")
            ).status_code == 403
    assert (await net.get("admin", "/v1/lookbacks/LB-NOPE")).json()["rule"] == (
        "lookback-not-found")
    refused = await client.post("/v1/lookbacks", json={"din": din(1), "marker": "HIV"},
                                headers=net.keys["hospital@H1"])
    assert (refused.status_code, refused.json()["rule"]) == (403, "role-not-allowed")


async def test_a_retried_lookback_starts_nothing_new(client, make_key):
    net = await Net(client, make_key).setup()
    await net.collect(3)
    request = {"din": din(3), "marker": "HCV", "event_id": "0b5c7a5e-6f0e-4a8d-9d55-3c1f2b7e9a10"}
    first = await client.post("/v1/lookbacks", json=request, headers=net.keys["admin"])
    second = await client.post("/v1/lookbacks", json=request, headers=net.keys["admin"])
    assert first.status_code == second.status_code == 201
    assert first.json()["lookback_id"] == second.json()["lookback_id"]
    assert first.json()["position"] == second.json()["position"]


async def test_site_keys_read_only_what_their_site_touched(client, make_key):
    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1, hospital="H1")
    for key in ("hospital@H1", "collector@BB1", "processing@BB1", "lab@LAB1", "auditor",
                "admin"):
        assert (await net.get(key, f"/v1/units/{red}")).status_code == 200, key
    for key in ("hospital@H2", "collector@BB2"):
        response = await net.get(key, f"/v1/units/{red}")
        assert (response.status_code, response.json()["rule"]) == (403, "site-scope"), key
        assert (await net.get(key, f"/v1/units/{red}/history")).status_code == 403
        assert (await net.get(key, f"/v1/donations/{din(1)}")).status_code == 403
    # The hospital sees the donation, with the one component it holds; the lab sees them all.
    seen = (await net.get("hospital@H1", f"/v1/donations/{din(1)}")).json()["components"]
    assert [c["unit_id"] for c in seen] == [red]
    seen = (await net.get("lab@LAB1", f"/v1/donations/{din(1)}")).json()["components"]
    assert len(seen) == 3
    whole = f"{din(1)}-E0001V00"
    assert (await net.get("hospital@H1", f"/v1/units/{whole}")).status_code == 403
    # ...but the provenance of its own unit shows the lineage up to the donor.
    prov = (await net.get("hospital@H1", f"/v1/units/{red}/provenance")).json()
    assert whole in {n["unit_id"] for n in prov["lineage"]["nodes"]}


async def test_unknown_unit_is_404_problem(client, make_key):
    net = await Net(client, make_key).setup()
    response = await net.get("admin", f"/v1/units/{din(5)}-{RED_CELLS}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["rule"] == "unit-not-found"


async def test_provenance_proofs_verify_against_the_signed_checkpoint(client, make_key, services):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.log.notes import NoteSigner, open_checkpoint
    from app.store.checkpoint_store import make_checkpoint

    net = await Net(client, make_key).setup()
    red = await net.red_cells_at(1)
    signer = NoteSigner(services.settings.log_origin,
                        Ed25519PrivateKey.from_private_bytes(b"p" * 32))
    async with services.pool.acquire() as con:
        await make_checkpoint(con, [signer], services.settings.log_origin)
    await net.transfuse(red, "PAT-0001")  # after the checkpoint: proven against the head

    prov = (await net.get("hospital@H1", f"/v1/units/{red}/provenance")).json()
    checkpoint, _ = open_checkpoint(prov["checkpoint"], [signer.verifier])
    signed = [e for e in prov["events"] if e["inclusion"]["signed"]]
    unsigned = [e for e in prov["events"] if not e["inclusion"]["signed"]]
    assert signed and unsigned
    assert all(e["position"] <= checkpoint.size < u["position"]
               for e in signed for u in unsigned)
    for event in signed:
        proof = event["inclusion"]
        assert proof["tree_size"] == checkpoint.size
        merkle.verify_inclusion(
            base64.b64decode(event["leaf_hash"]), proof["leaf_index"], checkpoint.size,
            [base64.b64decode(h) for h in proof["audit_path"]], checkpoint.root)
