"""The scan box: every form a scanner or a person types reads as the same donation or unit,
and a wrong check character is refused by name."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import DinCheckCharacter, InvalidDin, InvalidInput
from app.events import isbt
from app.web.scan import Scanned, read_scan

FIRST = "ABCDEFGHIJKLMNPQRSTUVWXYZ123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
dins = st.builds(lambda f, rest, yy, seq: f + rest + yy + seq,
                 st.sampled_from(FIRST), st.text(ALNUM, min_size=4, max_size=4),
                 st.text("0123456789", min_size=2, max_size=2),
                 st.text("0123456789", min_size=6, max_size=6))
products = st.sampled_from(["E0398V00", "E0400V00", "E3086V00", "E0869VA0", "E0869VB0"])


@given(dins)
def test_every_form_of_a_din_reads_as_the_bare_din(din: str) -> None:
    forms = [din, din + isbt.check_character(din), isbt.barcode(din), isbt.barcode(din, 0),
             f"  {din.lower()}\r\n"]
    assert {read_scan(form) for form in forms} == {Scanned(din)}


@given(dins, products)
def test_a_unit_id_reads_with_its_din_in_any_form(din: str, product: str) -> None:
    unit = isbt.unit_id_of(din, product)
    for form in (din, din + isbt.check_character(din), isbt.barcode(din)):
        assert read_scan(f"{form}-{product}") == Scanned(din, unit)


@given(dins, st.sampled_from(ALNUM + "*"))
def test_a_wrong_check_character_is_refused_by_name(din: str, given_char: str) -> None:
    if given_char == isbt.check_character(din):
        return
    with pytest.raises(DinCheckCharacter):
        read_scan(din + given_char)
    with pytest.raises(DinCheckCharacter):
        read_scan(f"{din}{given_char}-E0398V00")


@given(dins, st.integers(60, 96))
def test_barcode_flags_with_a_wrong_check_value_are_refused(din: str, flags: int) -> None:
    if isbt.barcode(din) == f"={din}{flags:02d}":
        return
    with pytest.raises(DinCheckCharacter):
        read_scan(f"={din}{flags:02d}")


@pytest.mark.parametrize("text", ["", "   ", "hello", "A9999261234", "A99992612345678",
                                  "A999926123456-NOPE", "ب" * 13, "x" * 200])
def test_what_is_no_identifier_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_scan(text)
    assert not isinstance(refused.value, DinCheckCharacter)


def test_an_empty_scan_says_what_to_type() -> None:
    with pytest.raises(InvalidDin, match="scan or type"):
        read_scan("")
