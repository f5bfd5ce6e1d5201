"""Envelope encryption of one donor's identity.

Each donor has a data key of their own (AES-256-GCM). The identity is sealed with it, bound
to the donor's pseudonym as associated data, so a ciphertext moved to another row does not
open. The data key is stored only wrapped by the master key, through ``KeyWrapper``: a local
AES-GCM key here, a KMS or HSM in a deployment that has one. Destroying a donor's wrapped key
(crypto-shredding) makes the identity unreadable for good.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.errors import VaultKeyMismatch, VaultTampered

NONCE_BYTES: Final = 12
KEY_BYTES: Final = 32
CHECK_PLAINTEXT: Final = b"bloodtrace vault master key check v1"


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys under a master key the caller never sees."""

    @property
    def key_id(self) -> str:
        """Names the master key (stored beside each wrapped key, for rotation)."""
        ...

    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        """The data key; ``VaultKeyMismatch`` when this master key did not wrap it."""
        ...


class LocalKeyWrapper:
    """A 32-byte master key held in memory (from a file or the environment)."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"the vault master key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(master_key)
        self._key_id = "local:" + hashlib.sha256(b"key id\x00" + master_key).hexdigest()[:16]

    @property
    def key_id(self) -> str:
        return self._key_id

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, b"wrap\x00" + context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:],
                                      b"wrap\x00" + context)
        except InvalidTag:
            raise VaultKeyMismatch("a donor data key does not unwrap with the configured "
                                   "vault master key") from None


@dataclass(frozen=True, slots=True)
class Sealed:
    """A sealed identity: the ciphertext (nonce first) and the wrapped data key."""

    ciphertext: bytes
    wrapped_key: bytes
    key_id: str


def seal(wrapper: KeyWrapper, donor_id: str, plaintext: bytes) -> Sealed:
    """Encrypt ``plaintext`` under a new data key for ``donor_id``, and wrap that key."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    context = donor_id.encode()
    ciphertext = nonce + AESGCM(data_key).encrypt(nonce, plaintext, b"identity\x00" + context)
    return Sealed(ciphertext, wrapper.wrap(data_key, context), wrapper.key_id)


def open_sealed(wrapper: KeyWrapper, donor_id: str, ciphertext: bytes, wrapped_key: bytes
                ) -> bytes:
    """The plaintext; ``VaultTampered`` when the ciphertext or its binding was changed."""
    context = donor_id.encode()
    data_key = wrapper.unwrap(wrapped_key, context)
    try:
        return AESGCM(data_key).decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:],
                                        b"identity\x00" + context)
    except InvalidTag:
        raise VaultTampered(f"the identity of donor {donor_id} fails its integrity check"
                            ) from None


def check_value(wrapper: KeyWrapper) -> bytes:
    """A test ciphertext stored at first start: a later start must open it."""
    return wrapper.wrap(CHECK_PLAINTEXT, b"check")


def verify_check_value(wrapper: KeyWrapper, stored: bytes) -> None:
    """``VaultKeyMismatch`` unless ``stored`` was made with this master key."""
    if wrapper.unwrap(stored, b"check") != CHECK_PLAINTEXT:
        raise VaultKeyMismatch("the vault master key check value does not match")
