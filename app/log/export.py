"""The JSONL export of a range of the log, as ``app/log/offline.py`` verifies it: its lines,
pure (``app/store/export_reader.py`` reads them from the database).

The lines, in order:

- ``{"kind":"header","format":"bloodtrace-export/v1","origin":O,"from":F,"to":T}``;
- ``{"kind":"key","vkey":...,"valid_from":...}``: the key manifest (informative only: an
  auditor trusts the keys they pin, never the file);
- ``{"kind":"start","size":F-1,"chain_hash":...,"compact_range":[...]}``: the chain hash and
  the Merkle compact range before the first record (genesis when F = 1), claims that the first
  checkpoint after them authenticates;
- ``{"kind":"record","position":P,"record":<the exact record bytes as a JSON string>,
  "leaf_hash":...,"chain_hash":...}`` for P = F..T (``record_b64`` replaces ``record`` for bytes
  that are not UTF-8, which the writer never produces);
- ``{"kind":"checkpoint","size":S,"note":<C2SP signed note>}`` right after record S.

Records travel as JSON strings, not base64: UTF-8 round-trips through JSON exactly, the file
stays readable, and decoding base64 would cost the verifier more than all its hashing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from app.log.encoding import b64
from app.log.offline import EXPORT_FORMAT


def _line(obj: Mapping[str, Any]) -> bytes:
    return orjson.dumps(obj) + b"\n"


def header_line(origin: str, first: int, last: int, exported_at: datetime | None = None) -> bytes:
    body: dict[str, Any] = {"kind": "header", "format": EXPORT_FORMAT, "origin": origin,
                            "from": first, "to": last}
    if exported_at is not None:
        body["exported_at"] = exported_at
    return _line(body)


def key_line(key: Mapping[str, Any]) -> bytes:
    """A manifest entry: vkey, name, key_id, valid_from, valid_until."""
    return _line({"kind": "key", **key})


def start_line(size: int, chain: bytes, compact_range: Sequence[bytes]) -> bytes:
    return _line({"kind": "start", "size": size, "chain_hash": b64(chain),
                  "compact_range": [b64(h) for h in compact_range]})


def record_line(position: int, record: bytes, leaf: bytes, chain: bytes) -> bytes:
    """One record; its exact bytes as a JSON string (base64 only if they are not UTF-8)."""
    body: dict[str, Any] = {"kind": "record", "position": position}
    try:
        body["record"] = record.decode("utf-8")
    except UnicodeDecodeError:
        body["record_b64"] = b64(record)
    body["leaf_hash"] = b64(leaf)
    body["chain_hash"] = b64(chain)
    return _line(body)


def checkpoint_line(size: int, note: str, created_at: datetime | None = None) -> bytes:
    body: dict[str, Any] = {"kind": "checkpoint", "size": size, "note": note}
    if created_at is not None:
        body["created_at"] = created_at
    return _line(body)


def opening_lines(
    origin: str, first: int, last: int, keys: Sequence[Mapping[str, Any]], chain: bytes,
    compact_range: Sequence[bytes], opening: tuple[str, datetime | None] | None,
) -> bytes:
    """Header, key manifest and start of an export of ``first..last``; then the checkpoint
    signed at ``first - 1`` (note, created_at), when there is one."""
    lines = [header_line(origin, first, last), *(key_line(k) for k in keys),
             start_line(first - 1, chain, compact_range)]
    if opening is not None:
        lines.append(checkpoint_line(first - 1, *opening))
    return b"".join(lines)


def page_lines(
    records: Iterable[tuple[int, bytes, bytes, bytes]],
    checkpoints: Mapping[int, tuple[str, datetime | None]],
) -> bytes:
    """The lines of a page of (position, record, leaf hash, chain hash), each checkpoint
    (size → note, created_at) right after the record it covers."""
    out = []
    for position, record, leaf, chain in records:
        out.append(record_line(position, record, leaf, chain))
        signed = checkpoints.get(position)
        if signed is not None:
            out.append(checkpoint_line(position, *signed))
    return b"".join(out)
