"""The read half of the authorization matrix: a scene over the two-region network, and for
every GET route of the OpenAPI document the requests to send and what each key must get,
computed from the relation model.

A probe is one request; its ``expect(key)`` is the status the model gives, and its
``check(key, body)`` lists what in a 200 answer disagrees with the model (which units,
patients and feed entries it shows). Every 200 answer is also searched for every patient id
the key may not see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.log.record import format_time
from tests.e2e.matrix_network import ADMIN, PLASMA, Network
from tests.support.relations import Key, Relations

Check = Callable[[Key, Any], list[str]]


@dataclass(frozen=True)
class Probe:
    route: tuple[str, str]
    url: str
    expect: Callable[[Key], int]
    check: Check | None = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Scene:
    """What the read matrix looks at: units in every custody state, their donations, two
    patients and three lookbacks."""

    units: list[str]
    donations: list[str]
    patients: list[str]
    lookbacks: list[str]


def din_of(unit: str) -> str:
    return unit.split("-")[0]


async def build_scene(net: Network) -> Scene:
    """Damascus: D1's red cells transfused at H-DAM-01, its plasma at the bank under a
    lookback; D2 from the mobile unit, red cells on their way to H-DAM-02, plasma moved to
    Aleppo's bank. Aleppo: A1's samples sent to the Damascus lab, red cells reserved at
    H-ALE-01; A2 held by hand by an admin at the mobile unit. A donor who gave in both regions,
    and a lookback on that donor started in Damascus."""
    red1 = await net.released("H-DAM-01")
    plasma1 = f"{din_of(red1)}-{PLASMA}"
    await net.release(plasma1)
    await net.given_to(red1, "PAT-DAM-1")

    whole2 = await net.collect("MU-DAM-01")
    await net.move(whole2, "BB-DAM-01")
    red2, plasma2 = await net.split(whole2)
    await net.test_all(din_of(whole2))
    await net.release(red2)
    await net.release(plasma2)
    await net.ship(red2, "H-DAM-02")
    await net.move(plasma2, "BB-ALE-01")

    whole3 = await net.collect("BB-ALE-01")
    await net.step(Key("collector", "BB-ALE-01"), "SamplesDispatched", {
        "dins": [din_of(whole3)], "lab_site_id": "LAB-DAM-01"})
    red3, plasma3 = await net.split(whole3)
    await net.test_all(din_of(whole3), lab="LAB-DAM-01")
    await net.release(red3)
    await net.move(red3, "H-ALE-01")
    await net.given_to(red3, "PAT-ALE-1", until="UnitReserved")

    whole4 = await net.collect("MU-ALE-01")
    await net.test_all(din_of(whole4))
    await net.step(ADMIN, "UnitQuarantined", {"unit_id": whole4, "reason": "bag damaged",
                                              "cause": "manual"})

    then = format_time(datetime.now(UTC) - timedelta(days=100))
    late = {"occurred_at": then, "late_entry_reason": "paper records entered late"}
    donor = net.next("DNR")
    await net.step(ADMIN, "DonorRegistered", {"donor_id": donor}, **late)
    whole5 = await net.collect("BB-DAM-01", donor, **late)
    whole6 = await net.collect("BB-ALE-01", donor)

    lookbacks = [await net.lookback(din=din_of(red1)), await net.lookback(din=din_of(red2)),
                 await net.lookback(donor=donor, by=Key("processing", "BB-DAM-01"))]
    units = [red1, plasma1, red2, plasma2, red3, whole4, whole6]
    assert {plasma3, whole5} <= set(net.model.units)
    return Scene(units, sorted({din_of(u) for u in units}), ["PAT-DAM-1", "PAT-ALE-1"],
                 lookbacks)


# --- expectations ------------------------------------------------------------------------------


def _national(key: Key) -> int:
    return 200 if key.national else 403


def anyone(key: Key) -> int:
    return 200


def same(expected: set[str], shown: set[str], what: str) -> list[str]:
    if expected == shown:
        return []
    return [f"{what}: missing {sorted(expected - shown)}, extra {sorted(shown - expected)}"]


def _shows_patient(m: Relations, unit: str) -> Check:
    """The treating hospital and national keys see the unit's recipient."""
    def check(key: Key, body: Any) -> list[str]:
        patient = m.units[unit].patient
        if patient and m.sees_patient(key, patient) and patient not in str(body):
            return [f"{patient} blanked for a key that treats them"]
        return []
    return check


def unit_probes(m: Relations, scene: Scene) -> list[Probe]:
    probes = []
    for unit in scene.units:
        def readable(key: Key, unit: str = unit) -> int:
            return 200 if m.may_read_unit(key, unit) else 403
        for path in ("/v1/units/{unit_id}", "/v1/units/{unit_id}/history",
                     "/v1/units/{unit_id}/provenance",
                     "/v1/fhir/BiologicallyDerivedProduct/{unit_id}",
                     "/v1/proofs/units/{unit_id}"):
            check = _shows_patient(m, unit) if path.endswith(("history", "provenance")) else None
            probes.append(Probe(("GET", path), path.format(unit_id=unit), readable, check))
        probes.append(Probe(("GET", "/v1/fhir/Provenance"), "/v1/fhir/Provenance", readable,
                            params={"target": f"BiologicallyDerivedProduct/{unit}"}))
        probes.append(Probe(("GET", "/v1/fhir/AdverseEvent"), "/v1/fhir/AdverseEvent", readable,
                            params={"unit_id": unit}))
    return probes


def donation_probes(m: Relations, scene: Scene) -> list[Probe]:
    probes = []
    for din in scene.donations:
        def readable(key: Key, din: str = din) -> int:
            return 200 if m.may_read_donation(key, din) else 403

        def components(key: Key, body: Any, din: str = din) -> list[str]:
            return same(m.readable_components(key, din),
                         {c["unit_id"] for c in body["components"]}, "components")

        def products(key: Key, body: Any, din: str = din) -> list[str]:
            shown = {e["resource"]["id"] for e in body.get("entry", ())}
            return same(m.readable_components(key, din), shown, "products")

        probes.append(Probe(("GET", "/v1/donations/{din}"), f"/v1/donations/{din}", readable,
                            components))
        probes.append(Probe(("GET", "/v1/fhir/BiologicallyDerivedProduct"),
                            "/v1/fhir/BiologicallyDerivedProduct", anyone, products,
                            {"biological-source-event": din}))
    return probes


def patient_probes(m: Relations, scene: Scene) -> list[Probe]:
    probes = []
    for patient in scene.patients:
        def readable(key: Key, patient: str = patient) -> int:
            return 403 if m.patients_of(key, patient) is None else 200

        def units(key: Key, body: Any, patient: str = patient) -> list[str]:
            return same(m.patients_of(key, patient) or set(),
                         {u["unit_id"] for u in body["units"]}, "patient's units")

        probes.append(Probe(("GET", "/v1/patients/{patient_id}/units"),
                            f"/v1/patients/{patient}/units", readable, units))
    return probes


def lookback_probes(m: Relations, scene: Scene) -> list[Probe]:
    probes = []
    for lookback in scene.lookbacks:
        def readable(key: Key, lookback: str = lookback) -> int:
            return 403 if m.lookback_part(key, lookback) is None else 200

        def part(key: Key, body: Any, lookback: str = lookback) -> list[str]:
            found = same(m.lookback_part(key, lookback) or set(),
                          {u["unit_id"] for u in body["units"]}, "lookback units")
            for unit, patient in m.lookbacks[lookback].patients.items():
                if unit in {u["unit_id"] for u in body["units"]} and m.sees_patient(
                        key, patient) and patient not in str(body):
                    found.append(f"{patient} blanked for a key that treats them")
            return found

        probes.append(Probe(("GET", "/v1/lookbacks/{lookback_id}"),
                            f"/v1/lookbacks/{lookback}", readable, part))
    return probes


def stock_probes(m: Relations) -> list[Probe]:
    def own_stock(key: Key, body: Any) -> list[str]:
        if key.national:
            return []
        held = {u.get("custodian_site_id") for u in body["units"]} | {
            c.get("site_id") for c in body["counts"]}
        return [f"stock of {sorted(held - {key.site})}"] if held - {key.site} else []

    probes = []
    for path in ("/v1/stock", "/v1/stock/near-expiry", "/v1/stock/cover"):
        check = own_stock if path == "/v1/stock" else None
        probes.append(Probe(("GET", path), path, anyone, check))
        for site in ("BB-ALE-01", "H-DAM-01"):
            def own(key: Key, site: str = site) -> int:
                return 200 if key.national or key.site == site else 403
            probes.append(Probe(("GET", path), path, own, check, {"site": site}))
    return probes


def national_probes() -> list[Probe]:
    paths = ("/v1/audit/events", "/v1/audit/custody-gaps", "/v1/audit/unfated",
             "/v1/audit/discards", "/v1/audit/late-entries", "/v1/audit/lookbacks-overdue",
             "/v1/audit/verify", "/v1/export", "/metrics")
    return [Probe(("GET", p), p, _national) for p in paths] + [
        Probe(("GET", "/tile/entries/{index}"), "/tile/entries/000.p/1", _national)]


def transfusion_audit_probes() -> list[Probe]:
    """The transfusion-safety views: every key, a site key its own site's rows only; an
    unknown reaction is a 404 to national keys and the same 403 as any other to a site key."""
    def own_rows(field: str) -> Check:
        def check(key: Key, body: Any) -> list[str]:
            if key.national:
                return []
            sites = {row.get("site_id") for row in body[field]} - {key.site}
            return [f"{field} of {sorted(sites)}"] if sites else []
        return check

    def unknown(key: Key) -> int:
        return 404 if key.national else 403

    return [Probe(("GET", "/v1/audit/haemovigilance"), "/v1/audit/haemovigilance", anyone),
            Probe(("GET", "/v1/audit/emergency"), "/v1/audit/emergency", anyone,
                  own_rows("issues")),
            Probe(("GET", "/v1/audit/overrides"), "/v1/audit/overrides", anyone,
                  own_rows("overrides")),
            Probe(("GET", "/v1/fhir/AdverseEvent/{event_id}"),
                  "/v1/fhir/AdverseEvent/00000000-0000-4000-8000-000000000001", unknown)]


def public_probes() -> list[Probe]:
    """Liveness, schemas and the transparency log's public face: open to every key."""
    return [Probe(("GET", p), p, anyone, params=q) for p, q in (
        ("/healthz", {}), ("/readyz", {}), ("/v1/schemas", {}),
        ("/v1/checkpoints/latest", {}), ("/v1/checkpoints/latest/note", {}),
        ("/v1/checkpoints", {}),
        ("/v1/proofs/inclusion", {"position": 1}), ("/v1/proofs/consistency", {"from_size": 1}),
        ("/v1/keys", {}), ("/checkpoint", {}))] + [
        Probe(("GET", "/v1/schemas/{name}"), "/v1/schemas/UnitIssued.v1.json", anyone),
        Probe(("GET", "/tile/{level}/{index}"), "/tile/0/000.p/1", anyone)]


def people_probes() -> list[Probe]:
    """People (WEB.md §1): the account list is an admin's; ``GET /v1/session`` answers a
    session cookie only, so every key is told it is not signed in."""
    def admin_only(key: Key) -> int:
        return 200 if key.role == "admin" else 403

    def no_credentials(key: Key, body: Any) -> list[str]:
        return [f"{row['user_id']} shows {name}" for row in body["users"]
                for name in ("password_hash", "totp_secret") if name in row]

    return [Probe(("GET", "/v1/users"), "/v1/users", admin_only, no_credentials),
            Probe(("GET", "/v1/session"), "/v1/session", lambda key: 401)]
