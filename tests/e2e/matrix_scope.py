"""What the authorization matrix covers, and the holes it knows of.

Every route of the OpenAPI document is in ``READ_ROUTES`` or ``WRITE_ROUTES`` (a test fails
otherwise). Where the service and the relation model disagree on a real hole the service
has, the hole is listed in ``KNOWN_HOLES`` with what it lets happen: the matrix must find
exactly those, so a new hole fails it and so does a fixed one (then delete its entry).
"""

from __future__ import annotations

from collections.abc import Callable

Mismatch = tuple[str, str, str]
"""(request, key, what differs)."""

READ_ROUTES = {
    ("GET", p) for p in (
        "/healthz", "/readyz", "/metrics", "/v1/events", "/v1/events/stream",
        "/v1/units/{unit_id}", "/v1/units/{unit_id}/history", "/v1/units/{unit_id}/provenance",
        "/v1/donations/{din}", "/v1/patients/{patient_id}/units", "/v1/stock",
        "/v1/stock/near-expiry", "/v1/stock/cover", "/v1/lookbacks/{lookback_id}",
        "/v1/audit/events", "/v1/audit/custody-gaps", "/v1/audit/unfated",
        "/v1/audit/discards", "/v1/audit/late-entries", "/v1/audit/lookbacks-overdue",
        "/v1/audit/verify", "/v1/checkpoints/latest", "/v1/checkpoints/latest/note",
        "/v1/checkpoints", "/v1/checkpoints/{size}",
        "/v1/proofs/inclusion", "/v1/proofs/consistency", "/v1/proofs/units/{unit_id}",
        "/v1/keys", "/v1/export", "/v1/schemas", "/v1/schemas/{name}",
        "/v1/fhir/BiologicallyDerivedProduct/{unit_id}", "/v1/fhir/BiologicallyDerivedProduct",
        "/v1/fhir/Provenance", "/v1/audit/haemovigilance", "/v1/audit/emergency",
        "/v1/audit/overrides", "/v1/fhir/AdverseEvent", "/v1/fhir/AdverseEvent/{event_id}",
        "/v1/users", "/v1/session",
        "/checkpoint", "/tile/{level}/{index}", "/tile/entries/{index}")}
DONOR_ROUTES = {
    ("GET", p) for p in (
        "/v1/donors/search", "/v1/donors/due", "/v1/donors/notifications",
        "/v1/donors/retention", "/v1/donors/{donor_id}/identity",
        "/v1/donors/{donor_id}/report")}
"""The donor registry's reads (issue 19): they record events, so their own matrix
(``test_identity_reads_follow_the_role_matrix``) runs on a network of its own."""
READ_ROUTES |= DONOR_ROUTES
WRITE_ROUTES = {("POST", "/v1/events"), ("POST", "/v1/events/batch"), ("POST", "/v1/donors"),
                ("POST", "/v1/lookbacks"), ("POST", "/v1/admin/keys"),
                ("DELETE", "/v1/admin/keys/{key_id}"), ("POST", "/v1/session"),
                ("DELETE", "/v1/session"), ("POST", "/v1/users"), ("PUT", "/v1/users/{user_id}"),
                ("POST", "/v1/users/{user_id}/disable"),
                ("POST", "/v1/users/{user_id}/password-reset"),
                ("POST", "/v1/users/{user_id}/totp")}

KNOWN_HOLES: dict[str, tuple[str, Callable[[Mismatch], bool]]] = {
    # None open. Closed in the domain (issue 20), each with a spec in tests/unit/rules:
    # an admin's step on a unit now reaches its holder's feed; PostDonationInformationReceived
    # only from a site that collected from the donor (or its lab); LookbackClosed only by its
    # starter or the collecting site; blood-establishment holds lifted only by a blood
    # bank's processing key or an admin.
}
"""Each known hole → the half of the matrix that finds it ("reads", "writes") and which of
its mismatches it accounts for."""


def assert_only_known_holes(found: list[Mismatch], half: str) -> None:
    """Every mismatch is a known hole of this half of the matrix, and each of those shows."""
    holes = {name: accounts for name, (where, accounts) in KNOWN_HOLES.items()
             if where == half}
    unexplained = [m for m in found if not any(accounts(m) for accounts in holes.values())]
    assert not unexplained, "\n".join(map(str, unexplained))
    silent = sorted(name for name, accounts in holes.items() if not any(map(accounts, found)))
    assert not silent, f"known holes that no longer show (delete them): {silent}"
