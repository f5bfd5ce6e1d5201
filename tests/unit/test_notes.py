"""C2SP signed notes and checkpoints: interoperability with published notes, key IDs, vkeys,
rotation, cosignatures, and every way a note can be wrong."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.log import notes as N

# golang.org/x/mod/sumdb/note (note_test.go / doc.go): the reference signed note.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN"
           "1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")

# A real CT log checkpoint with its Ed25519 log signature and witness cosignatures
# (tlog-cosignature/v1, type 0x04), as published by the transparency.dev ecosystem.
REAL_CHECKPOINT = """arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

\u2014 arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
\u2014 arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
\u2014 transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
\u2014 remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
"""  # noqa: E501
REAL_LOG_VKEY = ("arche2025h1.staging.ct.transparency.dev+ba2f06c0+"
                 "AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f")
REAL_WITNESS_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"


def go_signer() -> N.NoteSigner:
    name, _, material = GO_SKEY.removeprefix("PRIVATE+KEY+").split("+", 2)
    seed = base64.b64decode(material)[1:]
    return N.NoteSigner(name, Ed25519PrivateKey.from_private_bytes(seed))


def signer(name: str = "bloodtrace.dev/log", sig_type: int = N.ED25519) -> N.NoteSigner:
    return N.NoteSigner(name, Ed25519PrivateKey.generate(), sig_type)


def checkpoint(size: int = 7) -> N.Checkpoint:
    return N.Checkpoint("bloodtrace.dev/log", size, bytes(range(32)), bytes(range(32, 64)))


# --- interoperability ---------------------------------------------------------------------


def test_signing_reproduces_the_go_reference_note_byte_for_byte():
    s = go_signer()
    assert str(s.verifier) == GO_VKEY
    assert N.sign_note(GO_TEXT, [s]) == GO_NOTE


def test_the_go_reference_note_verifies_and_a_changed_text_does_not():
    key = N.VerifierKey.parse(GO_VKEY)
    assert N.verify_note(N.parse_note(GO_NOTE), [key]) == [key]
    with pytest.raises(N.NoteError):
        N.verify_note(N.parse_note(GO_NOTE.replace("cryptography", "cryptographY")), [key])


def test_a_real_checkpoint_verifies_with_its_log_key_and_a_witness_cosignature():
    log_key = N.VerifierKey.parse(REAL_LOG_VKEY)
    witness = N.VerifierKey.parse(REAL_WITNESS_VKEY)
    assert witness.sig_type == N.COSIGNATURE_V1
    cp, good = N.open_checkpoint(REAL_CHECKPOINT, [log_key, witness])
    assert (cp.origin, cp.size, cp.chain_head) == (
        "arche2025h1.staging.ct.transparency.dev", 1432088532, None)
    assert set(good) == {log_key, witness}
    clobbered = REAL_CHECKPOINT.replace("1432088532", "42")
    for key in (log_key, witness):
        with pytest.raises(N.NoteError):
            N.open_checkpoint(clobbered, [key])


# --- keys -----------------------------------------------------------------------------------


def test_key_id_is_the_c2sp_derivation():
    s = signer("example.com/log")
    pub = s.key.public_key().public_bytes_raw()
    import hashlib

    assert s.verifier.key_id == hashlib.sha256(b"example.com/log\n\x01" + pub).digest()[:4]
    assert N.VerifierKey.parse(str(s.verifier)) == s.verifier


@pytest.mark.parametrize("bad", [
    "", "PeterNeumann", "PeterNeumann+c74f20a3", "PeterNeumann+c74f20a4+" + GO_VKEY.split("+")[2],
    "Peter Neumann+c74f20a3+" + GO_VKEY.split("+")[2], "+c74f20a3+" + GO_VKEY.split("+")[2],
    "PeterNeumann+c74f20a3+AhpcQ==", "PeterNeumann+c74f20a3+!!!",
    "PeterNeumann+c74f20a3+C" + GO_VKEY.split("+")[2][1:],  # wrong type byte
])
def test_malformed_verifier_keys_are_refused(bad):
    with pytest.raises(N.NoteError):
        N.VerifierKey.parse(bad)


# --- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_body_round_trips_with_the_chain_head_extension():
    cp = checkpoint()
    body = cp.body()
    assert body.splitlines()[3].startswith("chain-head ")
    assert N.Checkpoint.parse(body) == cp
    assert N.Checkpoint.parse(N.Checkpoint("o", 0, bytes(32)).body()).chain_head is None


@pytest.mark.parametrize("body", [
    "o\n1\n", "o\n01\n" + N.b64(bytes(32)) + "\n", "o\n-1\n" + N.b64(bytes(32)) + "\n",
    "o\n1\n" + N.b64(bytes(31)) + "\n", "\n1\n" + N.b64(bytes(32)) + "\n",
    "o\n1\n" + N.b64(bytes(32)), "o\n1\n" + N.b64(bytes(32)) + "\nchain-head AAAA\n",
    "o\n\u0661\n" + N.b64(bytes(32)) + "\n",
])
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(N.NoteError):
        N.Checkpoint.parse(body)


def test_signed_checkpoint_opens_with_the_pinned_key_only():
    log = signer()
    raw = N.sign_checkpoint(checkpoint(), [log])
    assert N.open_checkpoint(raw, [log.verifier]) == (checkpoint(), [log.verifier])
    with pytest.raises(N.UnknownKeyError):
        N.open_checkpoint(raw, [signer().verifier])


def test_rotation_a_new_key_signs_beside_the_old_one():
    old, new = signer(), signer()
    raw = N.sign_checkpoint(checkpoint(), [old, new])
    assert len(N.parse_note(raw).signatures) == 2
    assert N.open_checkpoint(raw, [old.verifier])[1] == [old.verifier]
    assert N.open_checkpoint(raw, [new.verifier])[1] == [new.verifier]
    assert N.open_checkpoint(raw, [old.verifier, new.verifier])[1] == [old.verifier, new.verifier]


def test_a_bad_signature_by_a_known_key_rejects_the_note_even_beside_a_good_one():
    old, new = signer(), signer()
    raw = N.sign_checkpoint(checkpoint(), [old, new])
    forged = N.parse_note(N.sign_checkpoint(checkpoint(8), [new])).signatures[0]
    note = N.parse_note(raw)
    tampered = N.Note(note.text, (note.signatures[0], forged)).format()
    with pytest.raises(N.NoteError, match="does not verify"):
        N.open_checkpoint(tampered, [old.verifier, new.verifier])


def test_witness_cosignature_v1_and_plain_ed25519_cosignatures():
    log, cosigner, plain = signer(), signer("witness.example/w1", N.COSIGNATURE_V1), signer("w2")
    raw = N.sign_checkpoint(checkpoint(), [log])
    cosigned = N.add_signature(N.add_signature(raw, cosigner, timestamp=1_700_000_000), plain)
    _, good = N.open_checkpoint(cosigned, [log.verifier, cosigner.verifier, plain.verifier])
    assert good == [log.verifier, cosigner.verifier, plain.verifier]
    blob = N.parse_note(cosigned).signatures[1].blob
    assert int.from_bytes(blob[:8], "big") == 1_700_000_000
    # Re-cosigning replaces the witness's earlier line instead of piling up lines.
    again = N.add_signature(cosigned, cosigner, timestamp=1_700_000_100)
    assert len(N.parse_note(again).signatures) == 3
    # A cosignature does not carry over to another tree head.
    other = N.parse_note(N.sign_checkpoint(checkpoint(8), [log]))
    moved = N.Note(other.text, (other.signatures[0], N.parse_note(cosigned).signatures[1]))
    with pytest.raises(N.NoteError):
        N.open_checkpoint(moved.format(), [log.verifier, cosigner.verifier])


def test_a_signature_line_with_a_replaced_signature_fails():
    log = signer()
    raw = N.sign_checkpoint(checkpoint(), [log])
    head, _, sig = raw.rpartition(" ")
    blob = bytearray(base64.b64decode(sig))
    blob[10] ^= 0x40
    with pytest.raises(N.NoteError, match="does not verify"):
        N.open_checkpoint(head + " " + N.b64(bytes(blob)) + "\n", [log.verifier])


@pytest.mark.parametrize("raw", [
    "", "text\n", "text\n\n", "text\n\n\u2014 name\n", "text\n\n- name AAAAAAAA\n",
    "text\n\n\u2014 name AAAA\n", "text\n\n\u2014 na+me AAAAAAAA\n",
    "te\x01xt\n\n\u2014 name AAAAAAAA\n", "text\n\n\u2014 name AAAAAAAA",
    "text\n\n" + "\u2014 name AAAAAAAA\n" * 101,
])
def test_malformed_notes_are_refused(raw):
    with pytest.raises(N.NoteError):
        N.parse_note(raw)


def test_sign_note_refuses_text_that_would_not_parse_back():
    s = signer()
    for text in ("no newline", "two\n\nparagraphs\n", "ctl\x07\n"):
        with pytest.raises(N.NoteError):
            N.sign_note(text, [s])
    with pytest.raises(N.NoteError):
        N.sign_note("x\n", [])
