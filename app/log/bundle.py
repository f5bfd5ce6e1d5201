"""One unit's history with inclusion proofs, verifiable without the rest of the log, pure.

A bundle is ``{"format": "bloodtrace-unit-bundle/v1", "unit_id": U, "checkpoint": <signed
note>, "records": [{"position": P, "record": <exact record as a JSON string>, "proof":
[base64, ...]}, ...]}``: each record with its RFC 9162 inclusion proof in the tree that the
checkpoint signs.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from app.log.encoding import b64
from app.log.merkle import ProofError, leaf_hash, verify_inclusion
from app.log.notes import NoteError, VerifierKey, open_checkpoint
from app.log.quorum import WitnessPolicy

BUNDLE_FORMAT = "bloodtrace-unit-bundle/v1"


def build_bundle(
    unit_id: str, note: str, records: Sequence[tuple[int, bytes, Sequence[bytes]]]
) -> dict[str, Any]:
    """A bundle from (position, record bytes, inclusion proof) triples, in position order."""
    return {
        "format": BUNDLE_FORMAT,
        "unit_id": unit_id,
        "checkpoint": note,
        "records": [{"position": p, "record": r.decode("utf-8"), "proof": [b64(h) for h in proof]}
                    for p, r, proof in records],
    }


@dataclass(frozen=True, slots=True)
class BundleReport:
    ok: bool
    unit_id: str | None
    checked: int
    tree_size: int | None
    first_bad_position: int | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Bad(Exception):
    def __init__(self, position: int | None, reason: str) -> None:
        super().__init__(reason)
        self.position, self.reason = position, reason


def _proof(value: Any, position: int) -> list[bytes]:
    if not isinstance(value, list):
        raise _Bad(position, f"record {position} has no inclusion proof")
    try:
        return [binascii.a2b_base64(h, strict_mode=True) for h in value]
    except (binascii.Error, TypeError, ValueError):
        raise _Bad(position, f"the proof of record {position} is not base64") from None


def verify_unit_bundle(bundle: Mapping[str, Any], keys: Sequence[VerifierKey],
                       witnesses: WitnessPolicy | None = None) -> BundleReport:
    """Verify a unit bundle against the pinned ``keys``, without the rest of the log.

    The checkpoint must be signed by a pinned key, and each record must sit at its position in
    the tree that checkpoint signs: every record is then genuine and unaltered. A bundle cannot
    prove that none of the unit's records was left out; only a full export can. With
    ``witnesses``, the checkpoint must carry the quorum of pinned witness cosignatures.
    """
    unit = bundle.get("unit_id") if isinstance(bundle, Mapping) else None
    unit_id = unit if isinstance(unit, str) else None
    checked, size = 0, None
    try:
        if not isinstance(bundle, Mapping) or bundle.get("format") != BUNDLE_FORMAT:
            raise _Bad(None, f"not a {BUNDLE_FORMAT} document")
        try:
            checkpoint, _ = open_checkpoint(str(bundle.get("checkpoint")), keys)
        except NoteError as exc:
            raise _Bad(None, f"checkpoint: {exc}") from None
        size, last = checkpoint.size, 0
        why = witnesses.failure(str(bundle.get("checkpoint")), f"checkpoint {size}") \
            if witnesses is not None else None
        if why is not None:
            raise _Bad(None, why)
        entries = bundle.get("records")
        for entry in entries if isinstance(entries, list) else []:
            position = entry.get("position") if isinstance(entry, Mapping) else None
            if not isinstance(position, int) or not last < position <= size:
                raise _Bad(None, f"record position {position!r} is out of order or outside "
                                 f"the tree of {size}")
            text = entry.get("record")
            record = text.encode() if isinstance(text, str) else b""
            at = record.rfind(b',"position":')
            if at < 0 or not record.startswith(b"%d," % position, at + 12):
                raise _Bad(position, f"record {position} does not hold its own position")
            proof = _proof(entry.get("proof"), position)
            try:
                verify_inclusion(leaf_hash(record), position - 1, size, proof, checkpoint.root)
            except ProofError as exc:
                raise _Bad(position, f"record {position} is not in the signed tree: "
                                     f"{exc}") from None
            checked, last = checked + 1, position
        if not checked:
            raise _Bad(None, "the bundle holds no records")
        return BundleReport(True, unit_id, checked, size, None, None)
    except _Bad as bad:
        return BundleReport(False, unit_id, checked, size, bad.position, bad.reason)
