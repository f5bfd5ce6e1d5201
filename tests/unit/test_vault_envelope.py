"""Envelope encryption: each donor's own data key, wrapped by the master key; round trip,
tamper detection, binding to the donor, and the master key check value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import VaultKeyMismatch, VaultTampered
from app.vault.envelope import (
    LocalKeyWrapper,
    check_value,
    open_sealed,
    seal,
    verify_check_value,
)

MASTER = LocalKeyWrapper(b"m" * 32)
OTHER = LocalKeyWrapper(b"o" * 32)


@settings(max_examples=50)
@given(st.binary(max_size=2000), st.text(alphabet="0123456789abcdef", min_size=3, max_size=64))
def test_a_sealed_identity_opens_to_its_plaintext(plaintext: bytes, donor_id: str) -> None:
    sealed = seal(MASTER, donor_id, plaintext)
    assert open_sealed(MASTER, donor_id, sealed.ciphertext, sealed.wrapped_key) == plaintext
    assert sealed.key_id == MASTER.key_id


def test_the_ciphertext_holds_no_plaintext_and_each_donor_has_a_new_key() -> None:
    plaintext = "Testa Fictiva FICT0001AA وهمي".encode()
    one, two = seal(MASTER, "d1", plaintext), seal(MASTER, "d1", plaintext)
    for sealed in (one, two):
        assert b"Testa" not in sealed.ciphertext and b"FICT0001AA" not in sealed.ciphertext
        assert "وهمي".encode() not in sealed.ciphertext
    assert one.ciphertext != two.ciphertext and one.wrapped_key != two.wrapped_key


@settings(max_examples=50)
@given(st.data())
def test_any_flipped_bit_is_detected(data: st.DataObject) -> None:
    sealed = seal(MASTER, "d1", b'{"name":"Testa Fictiva"}')
    which = data.draw(st.sampled_from(["ciphertext", "wrapped_key"]))
    blob = bytearray(getattr(sealed, which))
    i = data.draw(st.integers(0, len(blob) - 1))
    blob[i] ^= 1 << data.draw(st.integers(0, 7))
    changed = {"ciphertext": sealed.ciphertext, "wrapped_key": sealed.wrapped_key,
               which: bytes(blob)}
    with pytest.raises((VaultTampered, VaultKeyMismatch)):
        open_sealed(MASTER, "d1", changed["ciphertext"], changed["wrapped_key"])


def test_a_sealed_identity_is_bound_to_its_donor_and_its_master_key() -> None:
    sealed = seal(MASTER, "d1", b"secret")
    with pytest.raises(VaultKeyMismatch):
        open_sealed(MASTER, "d2", sealed.ciphertext, sealed.wrapped_key)  # moved to a row
    with pytest.raises(VaultKeyMismatch):
        open_sealed(OTHER, "d1", sealed.ciphertext, sealed.wrapped_key)
    other = seal(MASTER, "d2", b"other")
    # d1's ciphertext under another data key (d2's, re-wrapped for d1): it does not open.
    with pytest.raises(VaultTampered):
        open_sealed(MASTER, "d1", sealed.ciphertext, MASTER.wrap(
            MASTER.unwrap(other.wrapped_key, b"d2"), b"d1"))


def test_the_check_value_accepts_only_its_master_key() -> None:
    stored = check_value(MASTER)
    verify_check_value(MASTER, stored)
    with pytest.raises(VaultKeyMismatch):
        verify_check_value(OTHER, stored)
    assert MASTER.key_id != OTHER.key_id


def test_a_master_key_has_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        LocalKeyWrapper(b"short")
