"""C2SP signed notes and transparency-log checkpoints, pure.

Formats (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint,
https://c2sp.org/tlog-cosignature):

- a note is a text ending in a newline, a blank line, then signature lines
  ``— <key name> <base64(key ID || signature)>``;
- key ID = ``SHA-256(key name || 0x0A || signature type || public key)[:4]``;
- a verifier key (vkey) is ``<name>+<hex key ID>+<base64(signature type || public key)>``;
- a checkpoint's text is ``origin``, ``size`` and ``base64(root)`` lines, here followed by one
  extension line ``chain-head <base64>`` that commits to bloodtrace's hash chain too.

Two signature types: ``0x01`` (Ed25519 over the note text, what the log signs with) and
``0x04`` (tlog-cosignature/v1: a timestamped Ed25519 witness cosignature). A verifier accepts
a plain ``0x01`` signature from a witness key as a cosignature as well.
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.log.encoding import b64

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
_TYPES = (ED25519, COSIGNATURE_V1)
_DASH = "\u2014 "
MAX_SIGNATURES = 100
CHAIN_HEAD = "chain-head "


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify."""


class UnknownKeyError(NoteError):
    """No signature on the note comes from a trusted key."""


def unb64(text: str, what: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    """The RECOMMENDED (and, for cosignatures, REQUIRED) 4-byte key ID."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def check_name(name: str) -> None:
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"bad key name {name!r}: non-empty, no spaces, no '+'")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A trusted public key: its name, signature type and raw Ed25519 public key."""

    name: str
    sig_type: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.sig_type, self.public)

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        """Parse a vkey ``name+hexid+base64(type||key)``; the ID must match the key."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError("a verifier key is name+keyid+key")
        name, hex_id, material = parts
        check_name(name)
        raw = unb64(material, "verifier key")
        if len(hex_id) != 8 or not raw or raw[0] not in _TYPES or len(raw) != 33:
            raise NoteError("only Ed25519 verifier keys (types 0x01 and 0x04) are supported")
        key = cls(name, raw[0], raw[1:])
        if key.key_id.hex() != hex_id.lower():
            raise NoteError(f"verifier key {name}: key ID {hex_id} does not match the key")
        return key

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.sig_type]) + self.public)}"

    def verify(self, text: bytes, blob: bytes) -> bool:
        """True when ``blob`` (the signature after the key ID) signs ``text`` with this key."""
        if self.sig_type == COSIGNATURE_V1:
            if len(blob) != 72:
                return False
            stamp = int.from_bytes(blob[:8], "big")
            if stamp >= 1 << 63:
                return False
            text, blob = cosigned_message(text, stamp), blob[8:]
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(blob, text)
        except (InvalidSignature, ValueError):
            return False
        return True


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a tlog-cosignature/v1 Ed25519 cosigner signs."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line: key name, key ID and the signature bytes after the ID."""

    name: str
    key_id: bytes
    blob: bytes

    def line(self) -> str:
        return f"{_DASH}{self.name} {b64(self.key_id + self.blob)}\n"


class NoteSigner:
    """Signs notes with one Ed25519 key, as a log (``0x01``) or as a cosigner (``0x04``)."""

    def __init__(self, name: str, key: Ed25519PrivateKey, sig_type: int = ED25519) -> None:
        check_name(name)
        if sig_type not in _TYPES:
            raise NoteError(f"unsupported signature type {sig_type}")
        self.name = name
        self.key = key
        self.sig_type = sig_type
        self.verifier = VerifierKey(name, sig_type, key.public_key().public_bytes_raw())

    def sign(self, text: str, timestamp: int = 0) -> Signature:
        """Sign the note text (``timestamp`` is used by cosignatures only)."""
        body = text.encode()
        if self.sig_type == COSIGNATURE_V1:
            blob = timestamp.to_bytes(8, "big") + self.key.sign(cosigned_message(body, timestamp))
        else:
            blob = self.key.sign(body)
        return Signature(self.name, self.verifier.key_id, blob)


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def format(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _check_text(raw: str) -> None:
    if any(c < " " and c != "\n" for c in raw):
        raise NoteError("a note may hold no control characters but newline")


def parse_note(raw: str) -> Note:
    """Split a signed note into its text and signature lines (no verification)."""
    _check_text(raw)
    cut = raw.rfind("\n\n")
    if cut < 0 or not raw.endswith("\n"):
        raise NoteError("a note is text, a blank line and signature lines")
    text, lines = raw[: cut + 1], raw[cut + 2 :].splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note carries 1 to {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError("a signature line starts with an em dash and a space")
        name, sep, encoded = line[len(_DASH) :].partition(" ")
        check_name(name)
        blob = unb64(encoded, "signature") if sep else b""
        if len(blob) < 5:
            raise NoteError(f"signature by {name} is too short")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    return Note(text, tuple(signatures))


def sign_note(text: str, signers: Sequence[NoteSigner], timestamp: int = 0) -> str:
    """A new signed note: ``text`` (ending in a newline) signed by every signer."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text ends in a newline and holds no blank line")
    _check_text(text)
    if not signers:
        raise NoteError("a note needs at least one signer")
    return Note(text, tuple(s.sign(text, timestamp) for s in signers)).format()


def add_signature(raw: str, signer: NoteSigner, timestamp: int = 0) -> str:
    """Add (or replace) ``signer``'s signature on an already signed note."""
    note = parse_note(raw)
    mine = (signer.name, signer.verifier.key_id)
    others = tuple(s for s in note.signatures if (s.name, s.key_id) != mine)
    return Note(note.text, (*others, signer.sign(note.text, timestamp))).format()


def verify_note(note: Note, keys: Iterable[VerifierKey]) -> list[VerifierKey]:
    """The trusted keys whose signatures verify.

    Signatures by unknown keys are ignored (that is how rotation and cosigning work); a
    signature by a known key that does not verify rejects the whole note, as the spec advises.
    """
    known = {(k.name, k.key_id): k for k in keys}
    text = note.text.encode()
    good: list[VerifierKey] = []
    for sig in note.signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not key.verify(text, sig.blob):
            raise NoteError(f"the signature by {key} does not verify")
        if key not in good:
            good.append(key)
    if not good:
        names = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in note.signatures)
        raise UnknownKeyError(f"no signature by a trusted key (signed by: {names})")
    return good


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: origin, size, RFC 9162 root and (bloodtrace's extension) chain head."""

    origin: str
    size: int
    root: bytes
    chain_head: bytes | None = None

    def body(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root)]
        if self.chain_head is not None:
            lines.append(CHAIN_HEAD + b64(self.chain_head))
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
            raise NoteError("a checkpoint is at least three non-empty lines")
        origin, size_text, root_text, *extensions = lines[:-1]
        if not size_text.isdecimal() or not size_text.isascii() or (
            size_text != "0" and size_text.startswith("0")
        ):
            raise NoteError(f"bad checkpoint size {size_text!r}")
        root = unb64(root_text, "checkpoint root")
        if len(root) != 32:
            raise NoteError("a checkpoint root is 32 bytes")
        chain: bytes | None = None
        for line in extensions:
            if line.startswith(CHAIN_HEAD):
                if chain is not None:
                    raise NoteError("two chain-head lines")
                chain = unb64(line[len(CHAIN_HEAD) :], "chain head")
                if len(chain) != 32:
                    raise NoteError("a chain head is 32 bytes")
        return cls(origin, int(size_text), root, chain)


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(raw: str, keys: Iterable[VerifierKey]) -> tuple[Checkpoint, list[VerifierKey]]:
    """Parse and verify a signed checkpoint; return it and the trusted keys that signed it."""
    note = parse_note(raw)
    good = verify_note(note, keys)
    return Checkpoint.parse(note.text), good
