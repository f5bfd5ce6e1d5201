"""The vault's pure identity rules: national id and name normalisation, the pseudonym, the
blind index and the salted commitment."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.errors import InvalidInput
from app.events.fields import _PSEUDONYM_RE
from app.vault.identity import (
    commitment,
    name_dob_index,
    normalise_name,
    normalise_national_id,
    pseudonym,
)

PEPPER = b"p" * 32
ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=4, max_size=32)


@pytest.mark.parametrize("raw", [
    "AB-12-34-56", "ab 12 34 56", " ab123456 ", "AB\u201312\u201434\u201156",
    "\uff21\uff22\uff11\uff12\uff13\uff14\uff15\uff16",  # full width
    "AB.12/34.56", "ab\u0661\u0662\u0663\u0664\u0665\u0666",  # Arabic-Indic digits
    "AB\t12\u00a034 56",
])
def test_spellings_of_one_national_id_normalise_alike(raw: str) -> None:
    assert normalise_national_id(raw) == "AB123456"


@pytest.mark.parametrize("raw", ["", "  ", "--", "AB1", "A" * 33, "ÉCOLE123", "AB_1234",
                                 "ab12;DROP", "12345\u0000"])
def test_a_national_id_that_is_not_letters_and_digits_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as err:
        normalise_national_id(raw)
    assert err.value.field == "national_id"


def test_the_pseudonym_is_hmac_sha256_of_the_normalised_id() -> None:
    expected = hmac.new(PEPPER, b"AB123456", hashlib.sha256).hexdigest()
    assert pseudonym(PEPPER, "ab-123-456") == expected
    assert pseudonym(b"q" * 32, "AB123456") != expected  # another network, another pepper


@given(ids, st.sampled_from(["", " ", "-", "  -  "]))
def test_separators_and_case_never_change_the_pseudonym(national_id: str, sep: str) -> None:
    spaced = sep.join(national_id).lower()
    assert pseudonym(PEPPER, spaced) == pseudonym(PEPPER, national_id)


@given(ids, ids)
def test_different_people_get_different_pseudonyms(a: str, b: str) -> None:
    assert (pseudonym(PEPPER, a) == pseudonym(PEPPER, b)) == (a == b)


@given(ids)
def test_a_pseudonym_is_a_valid_log_pseudonym_and_not_the_id(national_id: str) -> None:
    made = pseudonym(PEPPER, national_id)
    assert _PSEUDONYM_RE.fullmatch(made) and national_id.lower() not in made


def test_names_normalise_by_case_width_and_spaces() -> None:
    assert normalise_name("  Testa   FICTIVA ") == "testa fictiva"
    assert normalise_name("ﻭﻫﻤﻲ  الاختبار") == normalise_name("وهمي الاختبار")  # NFKC forms
    with pytest.raises(InvalidInput):
        normalise_name(" \t ")


def test_the_blind_index_is_keyed_and_separates_name_from_date() -> None:
    born = date(1990, 5, 1)
    index = name_dob_index(PEPPER, "Testa Fictiva", born)
    assert index == name_dob_index(PEPPER, " testa  fictiva", born)
    assert index != name_dob_index(PEPPER, "Testa Fictiva", date(1990, 5, 2))
    assert index != name_dob_index(b"q" * 32, "Testa Fictiva", born)
    assert len(index) == 32 and b"testa" not in index
    # Never equal to a pseudonym made from similar text.
    assert index.hex() != pseudonym(PEPPER, "TESTAFICTIVA19900501")


def test_the_commitment_is_salted_and_binds_every_field() -> None:
    person: dict[str, object] = {"national_id": "AB123456", "name": "Testa Fictiva",
                                 "birth_date": "1990-05-01", "sex": "F"}
    salt = b"s" * 16
    made = commitment(person, salt)
    assert made.startswith("sha256:") and len(made) == 7 + 64
    assert commitment(dict(reversed(person.items())), salt) == made  # key order is canonical
    assert commitment(person, b"t" * 16) != made
    assert commitment(person | {"name": "Testa Fictivb"}, salt) != made
