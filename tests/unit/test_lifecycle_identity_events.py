"""The vault's events in the domain: who may record a read of an identity (collector and
processing keys of a blood bank, admins), and the shred (admins only)."""

from __future__ import annotations

import pytest

from app.errors import (
    DonorNotFound,
    IdentityAccessDenied,
    RoleNotAllowed,
    SiteKindNotAllowed,
    SiteScopeViolation,
)
from tests.support.scene import ADMIN, actor, body, scene


def viewed(donor_id: str, site: str | None) -> dict[str, object]:
    data: dict[str, object] = {"donor_id": donor_id, "purpose": "recall"}
    return data | ({"site_id": site} if site else {})


@pytest.mark.parametrize("role", ["collector", "processing"])
def test_a_blood_bank_reader_records_a_read(role: str) -> None:
    s = scene()
    donor = s.new_donor()
    [event] = s.do("DonorIdentityViewed", viewed(donor, "BB1"), actor(role, "BB1"))
    assert body(event) == viewed(donor, "BB1") and event.stream == f"donor:{donor}"
    [event] = s.do("DonorIdentityViewed", viewed(donor, None), ADMIN)
    assert "site_id" not in body(event)


@pytest.mark.parametrize(("who", "site", "refusal"), [
    (("collector", "MU1"), "MU1", SiteKindNotAllowed),
    (("collector", "BB1"), None, IdentityAccessDenied),
    (("collector", "BB1"), "BB2", SiteScopeViolation),
    (("lab", "LAB1"), "LAB1", RoleNotAllowed),
    (("hospital", "H1"), "H1", RoleNotAllowed),
    (("inventory", "BB1"), "BB1", RoleNotAllowed),
    (("auditor", None), None, RoleNotAllowed),
])
def test_no_one_else_records_a_read(who: tuple[str, str | None], site: str | None,
                                    refusal: type[Exception]) -> None:
    s = scene()
    donor = s.new_donor()
    assert isinstance(s.refuse("DonorIdentityViewed", viewed(donor, site), actor(*who)),
                      refusal)


def test_a_read_or_a_shred_needs_a_registered_donor_and_a_shred_an_admin() -> None:
    s = scene()
    assert isinstance(s.refuse("DonorIdentityViewed", viewed("DNR-none", "BB1"),
                               actor("collector", "BB1")), DonorNotFound)
    donor = s.new_donor()
    shred = {"donor_id": donor, "reason": "erasure requested"}
    assert isinstance(s.refuse("DonorIdentityShredded", shred, actor("processing", "BB1")),
                      RoleNotAllowed)
    [event] = s.do("DonorIdentityShredded", shred, ADMIN)
    assert body(event) == shred
    # The donor's state is unchanged: their history stays under the pseudonym.
    assert s.donor(donor).donor_id == donor


def test_a_registration_may_carry_a_commitment_and_old_ones_still_decode() -> None:
    s = scene()
    commitment = "sha256:" + "ab" * 32
    s.do("DonorRegistered", {"donor_id": "DNR-c1", "sex": "F",
                             "identity_commitment": commitment}, actor("collector", "BB1"))
    s.do("DonorRegistered", {"donor_id": "DNR-c2", "sex": "F"}, actor("collector", "BB1"))
    refused = s.refuse("DonorRegistered", {"donor_id": "DNR-c3", "identity_commitment":
                                           "Testa Fictiva"}, actor("collector", "BB1"))
    assert getattr(refused, "field", None) == "data.identity_commitment"
