"""Verifying an export file on several processes gives the very verdict of one process."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from app.log import offline_parallel
from app.log.offline import verify_export
from app.log.offline_parallel import verify_export_file
from tests.unit.test_offline_verify import NEW, OLD, at, build


def _intact(lines):
    return lines


def _byte_changed(lines):
    i = at(lines, "record", 77)
    lines[i] = lines[i].replace(b"BB-DAM-01", b"BB-DAM-02", 1)
    return lines


def _dropped(lines):
    del lines[at(lines, "record", 140)]
    return lines


def _reordered(lines):
    i, j = at(lines, "record", 101), at(lines, "record", 102)
    lines[i], lines[j] = lines[j], lines[i]
    return lines


def _truncated(lines):
    return lines[: at(lines, "record", 187) + 1]


def _unknown_key(lines):
    i = at(lines, "checkpoint", 120)
    obj = orjson.loads(lines[i])
    obj["note"] = obj["note"].replace("\u2014", "-", 1)
    lines[i] = orjson.dumps(obj) + b"\n"
    return lines


CASES = [_intact, _byte_changed, _dropped, _reordered, _truncated, _unknown_key]


@pytest.mark.parametrize("mangle", CASES, ids=lambda f: f.__name__.strip("_"))
def test_several_processes_agree_with_one(tmp_path: Path, monkeypatch, mangle):
    monkeypatch.setattr(offline_parallel, "MIN_PARALLEL_BYTES", 0)
    lines = mangle(build(n=200, every=10, signers=lambda size: [OLD, NEW]))
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines))
    keys = [OLD.verifier]
    expected = verify_export(lines, keys)
    seen: list[int] = []
    assert verify_export_file(path, keys, workers=3, progress=seen.append) == expected
    assert verify_export_file(path, keys, workers=1) == expected
    assert (seen and seen[-1] == expected.checked) or not expected.ok


def test_a_range_export_joins_from_its_start_line(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(offline_parallel, "MIN_PARALLEL_BYTES", 0)
    lines = build(n=200, every=10, first=57)
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines))
    report = verify_export_file(path, [OLD.verifier], workers=4)
    assert (report.ok, report.checked, report.verified_to) == (True, 144, 200)


def test_many_small_slices_join_in_order(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(offline_parallel, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(offline_parallel, "SLICE_BYTES", 5000)  # ~8 records a slice
    lines = build(n=200, every=10)
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines))
    assert verify_export_file(path, [OLD.verifier], workers=2) == verify_export(lines,
                                                                              [OLD.verifier])
    lines = _dropped(lines)
    path.write_bytes(b"".join(lines))
    report = verify_export_file(path, [OLD.verifier], workers=2)
    assert report == verify_export(lines, [OLD.verifier]) and report.first_bad_position == 140
