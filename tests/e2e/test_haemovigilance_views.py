"""The transfusion-safety views over HTTP: ``/v1/audit/haemovigilance``, ``/emergency`` and
``/overrides``. A hospital sees only what its own site recorded, another hospital nothing of
it, a national key everything; patient ids only where the key treats the patient; bad
parameters are 422 problems.

The network starts 40 hours in the past (every step dated by ``occurred_at``, in order) so
that an emergency issue can be more than 24 h old when the views are read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.api_world import PROBLEM, KeyMaker, Net, din
from tests.support.scene import BEDSIDE

WHY = {"justification": "massive haemorrhage", "physician_id": "DR-7"}
PLATELETS = "E3084V00"


class ClockedNet(Net):
    """A ``Net`` whose steps are dated one minute apart from ``at`` (None: the server's
    clock)."""

    def __init__(self, client: httpx.AsyncClient, make_key: KeyMaker,
                 at: datetime | None) -> None:
        super().__init__(client, make_key)
        self.at = at

    async def post(self, key: str, type: str, data: dict[str, Any],
                   **envelope: Any) -> httpx.Response:
        if self.at is not None and "occurred_at" not in envelope:
            self.at += timedelta(minutes=1)
            envelope["occurred_at"] = self.at.isoformat().replace("+00:00", "Z")
        return await super().post(key, type, data, **envelope)

    async def issued(self, unit: str, patient: str, site: str = "H1", **issue: Any) -> None:
        """Reserved for an O NEG patient (crossmatched compatible), then issued."""
        await self.ok(f"hospital@{site}", "UnitReserved", {
            "unit_id": unit, "patient_id": patient, "patient_abo": "O", "patient_rhd": "NEG",
            "crossmatch": "compatible"})
        await self.ok(f"hospital@{site}", "UnitIssued", {"unit_id": unit, "patient_id": patient,
                                                         **issue})

    async def bedside(self, unit: str, patient: str, site: str = "H1") -> None:
        await self.ok(f"hospital@{site}", "TransfusionStarted", {
            "unit_id": unit, "patient_id": patient, "bedside_check": BEDSIDE})

    async def reaction(self, unit: str, patient: str, kind: str, severity: str,
                       imputability: str, site: str = "H1") -> dict[str, Any]:
        return await self.ok(f"hospital@{site}", "AdverseReactionReported", {
            "unit_id": unit, "patient_id": patient, "reaction_type": kind,
            "severity": severity, "imputability": imputability})

    async def platelets_at(self, n: int, rhd: str, hospital: str = "H1") -> str:
        """Released O ``rhd`` platelets (tested for bacteria) received by ``hospital``."""
        whole = await self.collect(n)
        await self.ok("processing@BB1", "UnitSplit", {"unit_id": whole, "components": [
            {"product_code": "E0398V00", "category": "red_cells", "volume_ml": 250},
            {"product_code": PLATELETS, "category": "platelets", "volume_ml": 60}]})
        await self.test_all(din(n), "O", rhd)
        await self.ok("lab@LAB1", "TestResultRecorded", {
            "din": din(n), "marker": "BACTERIA", "result": "non_reactive",
            "lab_site_id": "LAB1"})
        unit = f"{din(n)}-{PLATELETS}"
        await self.ok("processing@BB1", "UnitReleased", {"unit_id": unit})
        await self.ship(unit, hospital)
        return unit


async def _world(client: httpx.AsyncClient,
                 make_key: KeyMaker) -> tuple[ClockedNet, dict[str, str]]:
    net = ClockedNet(client, make_key, datetime.now(UTC) - timedelta(hours=40))
    await net.setup()
    net.keys["inventory@H1"] = await make_key("inventory", "H1")
    u = {}
    # 40 h ago at H1: an emergency issue never crossmatched, and a transfusion started then
    # and completed only now (with its reason).
    u["overdue"] = await net.red_cells_at(1)
    await net.ok("hospital@H1", "UnitIssued", {"unit_id": u["overdue"], "patient_id": "PAT-E1",
                                               "emergency": True, **WHY})
    u["late"] = await net.red_cells_at(2)
    await net.issued(u["late"], "PAT-L")
    await net.bedside(u["late"], "PAT-L")
    net.at = None
    await net.ok("hospital@H1", "UnitTransfused", {
        "unit_id": u["late"], "patient_id": "PAT-L",
        "late_completion_reason": "transfused slowly for heart failure"})
    # Now at H1: a plain transfusion with a non-severe reaction; a TRALI during a
    # transfusion then stopped; an emergency issue crossmatched incompatible; RhD-positive
    # platelets to an RhD-negative patient with anti-D.
    u["plain"] = await net.red_cells_at(3)
    await net.transfuse(u["plain"], "PAT-1")
    await net.reaction(u["plain"], "PAT-1", "fnhtr", "non_severe", "possible")
    u["trali"] = await net.red_cells_at(4)
    await net.issued(u["trali"], "PAT-2")
    await net.bedside(u["trali"], "PAT-2")
    await net.reaction(u["trali"], "PAT-2", "trali", "severe", "likely")
    await net.ok("hospital@H1", "UnitTransfused", {
        "unit_id": u["trali"], "patient_id": "PAT-2", "volume_ml": 40,
        "stopped_reason": "dyspnoea"})
    u["incompatible"] = await net.red_cells_at(5)
    await net.ok("hospital@H1", "UnitIssued", {"unit_id": u["incompatible"],
                                               "patient_id": "PAT-E2", "emergency": True, **WHY})
    await net.ok("hospital@H1", "UnitReserved", {
        "unit_id": u["incompatible"], "patient_id": "PAT-E2", "patient_abo": "A",
        "patient_rhd": "POS", "crossmatch": "incompatible"})
    u["platelets"] = await net.platelets_at(6, "POS")
    await net.issued(u["platelets"], "PAT-D", anti_d_prophylaxis=True)
    # At H2: its own transfusion, a death, and an incompatible emergency crossmatch.
    u["h2"] = await net.red_cells_at(7, "H2")
    await net.transfuse(u["h2"], "PAT-H2", "H2")
    await net.reaction(u["h2"], "PAT-H2", "taco", "death", "possible", "H2")
    u["h2_emergency"] = await net.red_cells_at(8, "H2")
    await net.ok("hospital@H2", "UnitIssued", {"unit_id": u["h2_emergency"],
                                               "patient_id": "PAT-E3", "emergency": True, **WHY})
    await net.ok("hospital@H2", "UnitReserved", {
        "unit_id": u["h2_emergency"], "patient_id": "PAT-E3", "patient_abo": "B",
        "patient_rhd": "POS", "crossmatch": "incompatible"})
    return net, u


def _counts(body: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [(c["reaction_type"], c["severity"], c["imputability"], c["count"])
            for c in body["counts"]]


async def test_haemovigilance_counts_by_scope_and_period(client, make_key):
    net, _ = await _world(client, make_key)
    everything = [("fnhtr", "non_severe", "possible", 1), ("taco", "death", "possible", 1),
                  ("trali", "severe", "likely", 1)]
    for key in ("auditor", "admin"):
        response = await net.get(key, "/v1/audit/haemovigilance")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["units_transfused"], body["reactions_reported"]) == (4, 3)
        assert _counts(body) == everything
        assert [c["reaction_type"] for c in body["serious"]] == ["taco", "trali"]
        assert body["from"] is None and body["to"] is None
        assert "patient_id" not in response.text

    h1 = (await net.get("hospital@H1", "/v1/audit/haemovigilance")).json()
    assert (h1["units_transfused"], h1["reactions_reported"]) == (3, 2)
    assert _counts(h1) == [("fnhtr", "non_severe", "possible", 1),
                           ("trali", "severe", "likely", 1)]
    h2 = (await net.get("hospital@H2", "/v1/audit/haemovigilance")).json()
    assert (h2["units_transfused"], _counts(h2)) == (1, [("taco", "death", "possible", 1)])
    bank = (await net.get("inventory@BB1", "/v1/audit/haemovigilance")).json()
    assert (bank["units_transfused"], bank["counts"], bank["serious"]) == (0, [], [])

    # By when it happened, ``to`` exclusive: the last hour holds everything but nothing
    # before it; an empty period holds nothing.
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    recent = (await net.get("auditor", "/v1/audit/haemovigilance", **{"from": hour_ago})).json()
    assert (recent["units_transfused"], _counts(recent)) == (4, everything)
    assert recent["from"].startswith(hour_ago[:19])
    old = (await net.get("auditor", "/v1/audit/haemovigilance", to=hour_ago)).json()
    assert (old["units_transfused"], old["counts"]) == (0, [])


async def test_haemovigilance_refuses_bad_times(client, make_key):
    net = await Net(client, make_key).setup()
    for params in ({"from": "yesterday"}, {"to": "2026-13-01T00:00:00Z"},
                   {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                   {"since": "2026-01-01T00:00:00Z"}):
        response = await net.get("auditor", "/v1/audit/haemovigilance", **params)
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)


async def test_emergency_issues_by_scope_with_patient_ids_redacted(client, make_key):
    net, u = await _world(client, make_key)
    everything = (await net.get("auditor", "/v1/audit/emergency")).json()["issues"]
    assert [(i["unit_id"], i["site_id"], i["patient_id"], i["crossmatch"], i["overdue"])
            for i in everything] == [
        (u["overdue"], "H1", "PAT-E1", None, True),
        (u["incompatible"], "H1", "PAT-E2", "incompatible", False),
        (u["h2_emergency"], "H2", "PAT-E3", "incompatible", False)]
    assert everything[1]["crossmatched_at"] is not None
    assert everything[0]["crossmatched_at"] is None

    h1 = (await net.get("hospital@H1", "/v1/audit/emergency")).json()["issues"]
    assert [(i["unit_id"], i["patient_id"]) for i in h1] == [
        (u["overdue"], "PAT-E1"), (u["incompatible"], "PAT-E2")]
    h2 = (await net.get("hospital@H2", "/v1/audit/emergency")).json()["issues"]
    assert [(i["unit_id"], i["patient_id"]) for i in h2] == [(u["h2_emergency"], "PAT-E3")]
    # A key of H1 that treats no patient sees H1's issues, never the patients' ids.
    blind = (await net.get("inventory@H1", "/v1/audit/emergency")).json()["issues"]
    assert [(i["unit_id"], i["patient_id"]) for i in blind] == [
        (u["overdue"], None), (u["incompatible"], None)]
    assert (await net.get("lab@LAB1", "/v1/audit/emergency")).json() == {"issues": []}


async def test_overrides_by_scope_with_patient_ids_redacted(client, make_key):
    net, u = await _world(client, make_key)
    everything = (await net.get("admin", "/v1/audit/overrides")).json()["overrides"]
    assert [(o["kind"], o["unit_id"], o["site_id"], o["patient_id"], o["reason"],
             o["anti_d_prophylaxis"]) for o in everything] == [
        ("late_completion", u["late"], "H1", "PAT-L", "transfused slowly for heart failure",
         False),
        ("rhd_platelets", u["platelets"], "H1", "PAT-D", None, True)]
    h1 = (await net.get("hospital@H1", "/v1/audit/overrides")).json()["overrides"]
    assert [o["patient_id"] for o in h1] == ["PAT-L", "PAT-D"]
    assert (await net.get("hospital@H2", "/v1/audit/overrides")).json() == {"overrides": []}
    blind = (await net.get("inventory@H1", "/v1/audit/overrides")).json()["overrides"]
    assert [(o["unit_id"], o["patient_id"]) for o in blind] == [
        (u["late"], None), (u["platelets"], None)]
