"""The offline verifier of exports: an intact export verifies, and every tampering of issue 6
fails, naming the position or the checkpoint. Exports are built in memory with the exporter's
own line builders and the log's hashing rules."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from app.log import notes as N
from app.log.export import checkpoint_line, header_line, key_line, record_line, start_line
from app.log.merkle import CompactRange
from app.log.offline import verify_export
from app.log.record import GENESIS, build_record, chain_hash, leaf_hash

ORIGIN = "bloodtrace.test/log"
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
OLD = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"o" * 32))
NEW = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"n" * 32))
STRANGER = N.NoteSigner(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"s" * 32))


def records(n: int) -> list[bytes]:
    return [build_record(
        position=p, event_id=f"00000000-0000-4000-8000-{p:012d}", stream=f"unit-{p % 7}",
        stream_version=p // 7 + 1, type="UnitStored", schema_version=1,
        data={"unit_id": f"unit-{p % 7}", "site_id": "BB-DAM-01", "location": "fridge-2 \u00e9"},
        occurred_at=T0 + timedelta(seconds=p), recorded_at=T0 + timedelta(seconds=p),
        actor={"key_id": "k1", "role": "inventory", "site_id": "BB-DAM-01"},
    ) for p in range(1, n + 1)]


def build(n: int = 50, every: int = 10, first: int = 1,
          signers=lambda size: [OLD], recs: list[bytes] | None = None) -> list[bytes]:
    """An export of records first..n with a checkpoint every ``every`` records."""
    recs = recs if recs is not None else records(n)
    lines = [header_line(ORIGIN, first, n), key_line({"vkey": str(OLD.verifier)})]
    tree, chain = CompactRange(), GENESIS
    for position, record in enumerate(recs, 1):
        if position == first:
            lines.append(start_line(first - 1, chain, list(tree.hashes)))
        leaf = leaf_hash(record)
        chain = chain_hash(chain, leaf)
        tree.append(leaf)
        if position >= first:
            lines.append(record_line(position, record, leaf, chain))
            if position % every == 0:
                cp = N.Checkpoint(ORIGIN, position, tree.root(), chain)
                lines.append(checkpoint_line(position, N.sign_checkpoint(cp, signers(position))))
    return lines


def check(lines, keys=(OLD,), **kw):
    return verify_export(lines, [k.verifier for k in keys], **kw)


def at(lines: list[bytes], kind: str, number: int) -> int:
    """Index of the record (by position) or checkpoint (by size) line."""
    field = "position" if kind == "record" else "size"
    for i, line in enumerate(lines):
        obj = orjson.loads(line)
        if obj["kind"] == kind and obj[field] == number:
            return i
    raise LookupError(number)


def failed(report, position=None, checkpoint=None, reason=""):
    assert not report.ok, report
    assert report.first_bad_position == position, report
    assert report.bad_checkpoint == checkpoint, report
    assert reason in (report.reason or ""), report
    return report


# --- intact -----------------------------------------------------------------------------------


def test_an_intact_export_verifies_every_record_and_checkpoint():
    report = check(build())
    assert report.as_dict() == {"ok": True, "checked": 50, "first_bad_position": None,
                                "reason": None, "bad_checkpoint": None, "verified_to": 50,
                                "checkpoints": 5, "witness_quorum": None,
                                "witnessed_size": None, "complete": None}


def test_a_range_export_verifies_from_its_start_line():
    report = check(build(first=23))
    assert (report.ok, report.checked, report.verified_to) == (True, 28, 50)


def test_progress_is_reported_and_blank_lines_are_ignored():
    seen = []
    lines = build()
    assert check([*lines, b"\n"], progress=seen.append).ok
    assert seen[-1] == 50


def test_a_record_that_is_not_utf8_travels_as_base64():
    recs = records(10)
    recs[3] = recs[3].replace(b"fridge-2 \xc3\xa9", b"fridge-2 \xff\xfe")
    lines = build(n=10, recs=recs)
    assert b'"record_b64"' in lines[at(lines, "record", 4)]
    assert check(lines).ok


# --- the tampering cases of issue 6 -----------------------------------------------------------


def test_one_byte_changed_in_a_record():
    lines = build()
    i = at(lines, "record", 17)
    lines[i] = lines[i].replace(b"BB-DAM-01", b"BB-DAM-02", 1)
    failed(check(lines), 17, None, "record 17 does not hash to its leaf hash")


@settings(max_examples=60, deadline=None)
@given(position=st.integers(1, 50), data=st.data())
def test_any_byte_flipped_inside_a_record_line_is_caught_at_that_position(position, data):
    lines = build()
    i = at(lines, "record", position)
    k = data.draw(st.integers(0, len(lines[i]) - 2))
    flipped = bytearray(lines[i])
    flipped[k] ^= data.draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64]))
    lines[i] = bytes(flipped)
    report = check(lines)
    assert not report.ok and report.first_bad_position == position, report


def test_a_record_dropped():
    lines = build()
    del lines[at(lines, "record", 17)]
    failed(check(lines), 17, None, "record 17 is missing or out of order (found record 18")


def test_two_records_reordered():
    lines = build()
    i, j = at(lines, "record", 17), at(lines, "record", 18)
    lines[i], lines[j] = lines[j], lines[i]
    failed(check(lines), 17, None, "record 17 is missing or out of order (found record 18")
    lines = build()
    lines.insert(at(lines, "record", 17) + 1, lines[at(lines, "record", 16)])
    failed(check(lines), 18, None, "record 16 stands where record 18 belongs")


def test_two_records_swapped_under_renumbered_lines():
    lines = build()
    i, j = at(lines, "record", 17), at(lines, "record", 18)
    a, b = orjson.loads(lines[i]), orjson.loads(lines[j])
    a["record"], b["record"] = b["record"], a["record"]
    lines[i], lines[j] = orjson.dumps(a) + b"\n", orjson.dumps(b) + b"\n"
    failed(check(lines), 17, None, "record 17 does not hold its own position")


def test_tail_truncated_mid_way():
    lines = build()
    failed(check(lines[: at(lines, "record", 45) + 1]), 46, None, "it was truncated")


def test_tail_truncated_by_dropping_the_last_checkpoint():
    lines = build()
    failed(check(lines[:-1]), 41, None, "records 41..50 are not covered by a signed checkpoint")


def test_tail_truncated_with_a_forged_header_still_shows_the_unsigned_records():
    lines = build()[: -4]
    lines[0] = header_line(ORIGIN, 1, 47)
    failed(check(lines), 41, None, "not covered")


def test_tail_cut_at_a_checkpoint_is_refused_when_the_auditor_knows_the_size():
    lines = build()
    cut = lines[: at(lines, "checkpoint", 40) + 1]
    cut[0] = header_line(ORIGIN, 1, 40)
    assert check(cut).ok  # nothing in the file can reveal a cut at a signed size ...
    failed(check(cut, min_size=50), 41, None, "fewer than the 50 required")  # ... this can


def test_a_checkpoint_that_covers_more_than_is_present():
    lines = build()
    del lines[at(lines, "record", 30)]
    failed(check(lines), 30, 30, "checkpoint 30 stands after record 29; record 30 is missing")
    lines = build()
    cp = lines.pop(at(lines, "checkpoint", 30))
    lines.insert(at(lines, "record", 29) + 1, cp)
    failed(check(lines), 30, 30, "checkpoint 30 stands after record 29; record 30 is missing")


def test_a_replaced_checkpoint_signature():
    lines = build()
    i = at(lines, "checkpoint", 30)
    obj = orjson.loads(lines[i])
    forged = N.parse_note(N.sign_checkpoint(N.Checkpoint(ORIGIN, 31, bytes(32)), [OLD]))
    note = N.parse_note(obj["note"])
    obj["note"] = N.Note(note.text, forged.signatures).format()
    lines[i] = orjson.dumps(obj) + b"\n"
    failed(check(lines), None, 30, "does not verify")


def test_a_checkpoint_signed_with_an_unknown_key():
    lines = build(signers=lambda size: [STRANGER] if size == 30 else [OLD])
    failed(check(lines), None, 30, "no signature by a trusted key")


def test_history_rewritten_with_recomputed_hashes_fails_at_the_next_checkpoint():
    recs = records(50)
    recs[22] = recs[22].replace(b"fridge-2", b"fridge-9")
    honest, forged = build(), build(recs=recs)
    lines = [*forged[: at(forged, "record", 30) + 1], *honest[at(honest, "checkpoint", 30):]]
    failed(check(lines), 21, 30, "a record in 21..30")


def test_a_forged_start_line_fails_at_the_first_checkpoint():
    lines = build(first=23)
    i = next(k for k, line in enumerate(lines) if b'"kind":"start"' in line)
    obj = orjson.loads(lines[i])
    obj["compact_range"][0] = N.b64(hashlib.sha256(b"x").digest())
    lines[i] = orjson.dumps(obj) + b"\n"
    failed(check(lines), 23, 30)


def test_another_logs_checkpoint_is_refused():
    lines = build()
    i = at(lines, "checkpoint", 10)
    obj = orjson.loads(lines[i])
    cp = N.Checkpoint.parse(N.parse_note(obj["note"]).text)
    other = N.NoteSigner("other.log", Ed25519PrivateKey.from_private_bytes(b"o" * 32))
    obj["note"] = N.sign_checkpoint(N.Checkpoint("other.log", 10, cp.root, cp.chain_head),
                                    [other])
    lines[i] = orjson.dumps(obj) + b"\n"
    failed(check(lines, keys=(OLD, other)), None, 10, "not this export's")


# --- keys -------------------------------------------------------------------------------------


def test_rotation_old_then_both_then_new():
    def signers(size):
        return [OLD] if size <= 20 else [OLD, NEW] if size <= 30 else [NEW]

    lines = build(signers=signers)
    assert check(lines, keys=(OLD, NEW)).ok
    failed(check(lines, keys=(NEW,)), None, 10, "which is not pinned")
    failed(check(lines, keys=(OLD,)), None, 40, "no signature by a trusted key")


# --- malformed files --------------------------------------------------------------------------


@pytest.mark.parametrize("mangle, reason", [
    (lambda ls: [], "empty"),
    (lambda ls: ls[1:], "header"),
    (lambda ls: [ls[0], *ls[3:]], "before the start line"),
    (lambda ls: [*ls[:5], b"{not json\n", *ls[5:]], "not JSON"),
    (lambda ls: [*ls[:5], b'{"kind":"gossip"}\n', *ls[5:]], "unknown line kind"),
    (lambda ls: [*ls[:5], b"[1, 2]\n", *ls[5:]], "not a well-formed export line"),
])
def test_malformed_exports_fail(mangle, reason):
    report = check(mangle(build()))
    assert not report.ok and reason in report.reason, report
