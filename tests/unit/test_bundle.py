"""A unit bundle (records + inclusion proofs + a signed checkpoint) verifies without the rest of
the log, and every alteration of it fails, naming the record."""

from __future__ import annotations

import copy

import pytest

from app.log import merkle
from app.log import notes as N
from app.log.bundle import build_bundle, verify_unit_bundle
from app.log.record import leaf_hash
from tests.unit.test_offline_verify import OLD, ORIGIN, STRANGER, records

POSITIONS = [3, 9, 10, 22, 37]


def bundle(signer: N.NoteSigner = OLD, size: int = 40) -> dict:
    recs = records(size)
    tree, nodes = merkle.CompactRange(), {}
    for rec in recs:
        for level, idx, value in tree.append(leaf_hash(rec)):
            nodes[(level, idx)] = value
    note = N.sign_checkpoint(N.Checkpoint(ORIGIN, size, tree.root(), bytes(32)), [signer])
    items = [(p, recs[p - 1], merkle.inclusion_proof(p - 1, size, nodes)) for p in POSITIONS]
    return build_bundle("unit-3", note, items)


def test_an_intact_bundle_verifies():
    report = verify_unit_bundle(bundle(), [OLD.verifier])
    assert report.as_dict() == {"ok": True, "unit_id": "unit-3", "checked": 5, "tree_size": 40,
                                "first_bad_position": None, "reason": None}


def _record(b):
    b["records"][2]["record"] = b["records"][2]["record"].replace("fridge", "fridgf")


def _proof(b):
    b["records"][2]["proof"][1] = b["records"][2]["proof"][0]


def _short_proof(b):
    b["records"][2]["proof"].pop()


def _position(b):
    b["records"][2]["position"] = 11


def _swapped(b):
    b["records"][2]["record"], b["records"][1]["record"] = (b["records"][1]["record"],
                                                            b["records"][2]["record"])


@pytest.mark.parametrize("mangle, position, reason", [
    (_record, 10, "record 10 is not in the signed tree"),
    (_proof, 10, "record 10 is not in the signed tree"),
    (_short_proof, 10, "record 10 is not in the signed tree"),
    (_position, 11, "record 11 does not hold its own position"),
    (_swapped, 9, "record 9 does not hold its own position"),
])
def test_an_altered_bundle_fails_at_the_record(mangle, position, reason):
    altered = copy.deepcopy(bundle())
    mangle(altered)
    report = verify_unit_bundle(altered, [OLD.verifier])
    assert (report.ok, report.first_bad_position) == (False, position), report
    assert reason in report.reason


@pytest.mark.parametrize("document, reason", [
    ({}, "not a bloodtrace-unit-bundle/v1 document"),
    ({**bundle(), "records": []}, "holds no records"),
    ({**bundle(), "records": list(reversed(bundle()["records"]))}, "out of order"),
    (bundle(STRANGER), "no signature by a trusted key"),
    ({**bundle(), "checkpoint": "garbage"}, "checkpoint:"),
])
def test_bad_bundles_fail(document, reason):
    report = verify_unit_bundle(document, [OLD.verifier])
    assert not report.ok and reason in report.reason, report
