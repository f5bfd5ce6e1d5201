"""ISBT 128 identifiers: DIN forms and check character, product codes, unit ids, groups."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.api.problems import http_status
from app.errors import (
    DinCheckCharacter,
    InvalidDin,
    InvalidInput,
    InvalidProductCode,
    InvalidUnitId,
    UnknownBloodGroup,
)
from app.events import isbt


@pytest.mark.parametrize(("din", "check"), [("G123417654321", "A"), ("G123498654321", "H")])
def test_published_check_characters(din: str, check: str) -> None:
    assert isbt.check_character(din) == check


@pytest.mark.parametrize("given", [
    "G123417654321",       # bare
    "G123417654321A",      # with its check character
    "=G12341765432100",    # barcode: "=" + DIN + 2 flag characters
    "g123417654321a",      # scanners and people type lower case
    " G123417654321 ",
])
def test_every_din_form_is_stored_bare(given: str) -> None:
    assert isbt.parse_din(given) == "G123417654321"


@pytest.mark.parametrize("wrong", ["G123417654321B", "G123498654321A", "G1234176543210"])
def test_a_wrong_check_character_is_a_422_that_says_so(wrong: str) -> None:
    with pytest.raises(DinCheckCharacter) as caught:
        isbt.parse_din(wrong, "data.din")
    assert http_status(caught.value) == 422
    assert caught.value.field == "data.din"
    assert "check character" in caught.value.detail


@pytest.mark.parametrize("bad", [
    "G12341765432",        # 12 characters
    "G12341765432100X",    # too long
    "O123417654321",       # a facility id never starts with O
    "0123417654321",       # ... nor with 0
    "G1234AB654321",       # year must be digits
    "=G123417654321",      # barcode without flags
    "",
    450,
    None,
])
def test_a_malformed_din_is_refused(bad: object) -> None:
    with pytest.raises(InvalidDin) as caught:
        isbt.parse_din(bad)
    assert http_status(caught.value) == 422
    assert caught.value.field == "din"


def test_a_check_character_may_be_star_or_digit() -> None:
    # The Mod 37-2 alphabet is 0-9, A-Z and *: find DINs whose check is a digit or a star.
    checks = {isbt.check_character(f"A9999{25:02d}{n:06d}") for n in range(200)}
    assert "*" in checks
    assert checks & set("0123456789")
    for n in range(200):
        din = f"A999925{n:06d}"
        assert isbt.parse_din(din + isbt.check_character(din)) == din


@pytest.mark.parametrize("code", ["E0398V00", "E2555V00", "E0001VA0", "E0398VAa", "X1234000"])
def test_product_codes(code: str) -> None:
    assert isbt.parse_product_code(code) == code


@pytest.mark.parametrize("code", ["E0398V0", "e0398V00", "E03A8V00", "E0398V0A", "E0398Vaa", ""])
def test_malformed_product_codes(code: str) -> None:
    with pytest.raises(InvalidProductCode):
        isbt.parse_product_code(code)


def test_unit_id_is_din_dash_product_code_with_the_din_normalised() -> None:
    assert isbt.unit_id_of("A999926123456", "E0398V00") == "A999926123456-E0398V00"
    checked = "A999926123456" + isbt.check_character("A999926123456")
    assert isbt.parse_unit_id(f"{checked}-E0398V00") == "A999926123456-E0398V00"
    with pytest.raises(InvalidUnitId):
        isbt.parse_unit_id("A999926123456E0398V00")
    with pytest.raises(DinCheckCharacter):
        isbt.parse_unit_id("A999926123456" + "Z-E0398V00"
                           if isbt.check_character("A999926123456") != "Z"
                           else "A999926123456Y-E0398V00")


@pytest.mark.parametrize(("given", "abo"), [
    ("O", "O"), ("0", "O"), ("a", "A"), ("B", "B"), ("ab", "AB"), ("51", "O"), ("62", "A"),
    ("73", "B"), ("84", "AB"), ("95", "O"), ("06", "A"), ("17", "B"), ("28", "AB"),
])
def test_abo_plain_and_isbt_codes(given: str, abo: str) -> None:
    assert isbt.parse_abo(given) == abo


@pytest.mark.parametrize(("given", "rhd"), [
    ("+", "POS"), ("-", "NEG"), ("\u2212", "NEG"), ("pos", "POS"), ("NEG", "NEG"),
    ("positive", "POS"), ("Negative", "NEG"), ("51", "POS"), ("95", "NEG"), ("62", "POS"),
    ("06", "NEG"), ("28", "NEG"), ("84", "POS"),
])
def test_rhd_plain_and_isbt_codes(given: str, rhd: str) -> None:
    assert isbt.parse_rhd(given) == rhd


@pytest.mark.parametrize(("given", "group"), [
    ("O NEG", ("O", "NEG")), ("AB+", ("AB", "POS")), ("a pos", ("A", "POS")),
    ("B-", ("B", "NEG")), ("51", ("O", "POS")), ("95", ("O", "NEG")),
])
def test_combined_groups(given: str, group: tuple[str, str]) -> None:
    assert isbt.parse_group(given) == group


@pytest.mark.parametrize("bad", ["C", "OA", "99", "00", "", 1, None])
def test_unknown_abo_is_a_422(bad: object) -> None:
    with pytest.raises(UnknownBloodGroup) as caught:
        isbt.parse_abo(bad, "data.abo")
    assert http_status(caught.value) == 422
    assert caught.value.field == "data.abo"


@pytest.mark.parametrize("bad", ["55", "maybe", "++", "", None])
def test_unknown_rhd_is_a_422(bad: object) -> None:
    # 55 is "group O, RhD not specified": it names no RhD.
    with pytest.raises(UnknownBloodGroup):
        isbt.parse_rhd(bad)


@pytest.mark.parametrize("spoof", ["\u0131999926123456", "\u017f999926123456",
                                   "A99992612345\u0665"])
def test_identifiers_that_match_only_after_unicode_case_folding_are_refused(spoof: str) -> None:
    """Issue 20 item 16: U+017F upper-cases to "S", U+0131 to "I": a DIN or RhD that spells
    itself only after case folding is refused, not normalised into another donation's."""
    with pytest.raises(InvalidDin):
        isbt.parse_din(spoof)
    with pytest.raises(UnknownBloodGroup):
        isbt.parse_rhd("po\u017f")
    assert isbt.parse_rhd("\u2212") == "NEG"  # a minus sign is no spoof: it folds to nothing


_DIN_CHARS = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"


@given(facility=st.text(_DIN_CHARS, min_size=1, max_size=1),
       rest=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=4, max_size=4),
       year=st.integers(0, 99), seq=st.integers(0, 999_999))
def test_barcode_flag_check_values_round_trip_through_stdnum(
        facility: str, rest: str, year: int, seq: int) -> None:
    """Flags 60-96 carry 60 + the Mod 37-2 check value (python-stdnum's)."""
    from stdnum.iso7064 import mod_37_2

    din = f"{facility}{rest}{year:02d}{seq:06d}"
    code = isbt.barcode(din)
    check = mod_37_2.calc_check_digit(din)
    assert int(code[-2:]) == 60 + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*".index(check)
    assert isbt.parse_din(code) == din
    assert mod_37_2.is_valid(din + check)
    wrong = 60 + (int(code[-2:]) - 60 + 1) % 37
    with pytest.raises(DinCheckCharacter):
        isbt.parse_din(f"={din}{wrong:02d}")


@pytest.mark.parametrize("barcode", ["=G12341765432199", "=G123417654321ZZ", "=G12341765432161"])
def test_barcode_flags_out_of_range_or_with_a_wrong_check_value_are_refused(
        barcode: str) -> None:
    """Review: "=G12341765432199" and "...ZZ" were both accepted (the check value is 70)."""
    with pytest.raises(InvalidInput):
        isbt.parse_din(barcode)
    assert isbt.parse_din("=G12341765432170") == "G123417654321"
    assert isbt.parse_din("=G12341765432100") == "G123417654321"  # 00: no check value


@pytest.mark.parametrize(("code", "ok"), [
    ("E0398V00", True), ("E0398VA0", True), ("E0398VAb", True), ("E0398V0a", True),
    ("E0398V1A", False), ("E0398VA1", False), ("E0398V01", False)])
def test_product_code_division_characters(code: str, ok: bool) -> None:
    """Review: division characters accepted digits: the first is A-Z or 0, the second a-z
    or 0."""
    if ok:
        assert isbt.parse_product_code(code) == code
    else:
        with pytest.raises(InvalidProductCode):
            isbt.parse_product_code(code)
