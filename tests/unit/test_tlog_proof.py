"""c2sp.org/tlog-proof@v1: a unit's records as tlog proofs, read back and verified as the unit
bundle they amount to; changed records, proofs and checkpoints fail."""

from __future__ import annotations

import binascii

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.log import merkle as M
from app.log import notes as N
from app.log.bundle import verify_unit_bundle
from app.log.tlog_proof import HEADER, ProofFormatError, as_bundle, format_proofs, parse_proofs

LOG = N.NoteSigner("bloodtrace.dev/log", Ed25519PrivateKey.from_private_bytes(b"L" * 32))
WITNESS = N.NoteSigner("ngo.example/w", Ed25519PrivateKey.from_private_bytes(b"W" * 32),
                       N.COSIGNATURE_V1)


def log_of(size: int) -> tuple[list[bytes], dict[M.Node, bytes], str]:
    records = [b'{"data":{},"position":%d,"stream":"U1"}' % (i + 1) for i in range(size)]
    tree, nodes = M.CompactRange(), {}
    for record in records:
        for level, index, value in tree.append(M.leaf_hash(record)):
            nodes[(level, index)] = value
    note = N.sign_checkpoint(N.Checkpoint(LOG.name, size, tree.root(), bytes(32)), [LOG])
    return records, nodes, N.add_signature(note, WITNESS, 1_767_000_000)


def proofs_text(positions: list[int], size: int = 13) -> str:
    records, nodes, note = log_of(size)
    return format_proofs(note, [(p, records[p - 1], M.inclusion_proof(p - 1, size, nodes))
                                for p in positions])


def test_the_format_is_the_specs():
    text = proofs_text([3])
    lines = text.split("\n")
    assert lines[0] == HEADER and lines[1].startswith("extra ") and lines[2] == "index 2"
    blank = lines.index("")
    assert blank == 3 + 4  # the audit path of leaf 2 in a tree of 13
    assert lines[blank + 1:blank + 4] == ["bloodtrace.dev/log", "13", lines[blank + 3]]
    extra, index, proof, note = parse_proofs(text)[0]
    assert index == 2 and len(proof) == 4
    assert binascii.b2a_base64(extra, newline=False).decode() == lines[1][6:]
    assert N.open_checkpoint(note, [WITNESS.verifier])[0].size == 13


def test_a_units_proofs_verify_with_the_log_key_and_the_witness_quorum():
    from app.log.quorum import WitnessPolicy

    bundle = as_bundle(proofs_text([1, 5, 13]))
    report = verify_unit_bundle(bundle, [LOG.verifier], WitnessPolicy((WITNESS.verifier,), 1))
    assert report.ok and report.checked == 3 and report.tree_size == 13


def test_a_changed_record_or_proof_fails_naming_the_position():
    text = proofs_text([5, 7])
    records, _, _ = log_of(13)
    changed = text.replace(binascii.b2a_base64(records[6], newline=False).decode(),
                           binascii.b2a_base64(records[6].replace(b"U1", b"U2"),
                                               newline=False).decode())
    report = verify_unit_bundle(as_bundle(changed), [LOG.verifier])
    assert not report.ok and report.first_bad_position == 7

    lines = text.split("\n")
    lines[3] = binascii.b2a_base64(bytes(32), newline=False).decode()
    report = verify_unit_bundle(as_bundle("\n".join(lines)), [LOG.verifier])
    assert not report.ok and report.first_bad_position == 5


@pytest.mark.parametrize("text", ["", "c2sp.org/tlog-proof@v1\n", "hello\n",
                                  "c2sp.org/tlog-proof@v1\nindex 01\n\n",
                                  "c2sp.org/tlog-proof@v1\nindex 1\nnot base64\n\n"])
def test_malformed_proofs_are_refused(text):
    with pytest.raises(ProofFormatError):
        as_bundle(text)
