"""c2sp.org/tlog-proof@v1 (https://c2sp.org/tlog-proof), pure: a unit's records as a sequence
of tlog proofs, one per record, and back.

Each proof is the header line, ``extra <base64(record)>`` (the exact record bytes, from which
the verifier computes the leaf hash ``SHA-256(0x00 || record)``), ``index <position - 1>``,
the RFC 6962 inclusion proof lines, an empty line and the checkpoint (with its witness
cosignatures) verbatim. A unit's proofs follow one another; the next header line ends the
checkpoint's signature lines. Verifying one is verifying the unit bundle it amounts to
(``app.log.bundle``).
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import Any

from app.log.bundle import BUNDLE_FORMAT
from app.log.encoding import b64

HEADER = "c2sp.org/tlog-proof@v1"
_DASH = "\u2014 "


class ProofFormatError(ValueError):
    """Text that is not a sequence of tlog proofs."""


def format_proofs(note: str, records: Sequence[tuple[int, bytes, Sequence[bytes]]]) -> str:
    """One tlog proof per (position, record, inclusion proof), all under ``note``."""
    out = []
    for position, record, proof in records:
        lines = [HEADER, f"extra {b64(record)}", f"index {position - 1}",
                 *(b64(h) for h in proof), ""]
        out.append("\n".join(lines) + "\n" + note)
    return "".join(out)


def _b64(text: str, what: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise ProofFormatError(f"{what} is not base64") from None


def parse_proofs(text: str) -> list[tuple[bytes | None, int, list[bytes], str]]:
    """(extra, index, inclusion proof, checkpoint note) of each proof in ``text``."""
    lines = text.split("\n")
    if lines[-1] != "":
        raise ProofFormatError("a tlog proof ends in a newline")
    lines.pop()
    proofs, at = [], 0
    while at < len(lines):
        if lines[at] != HEADER:
            raise ProofFormatError(f"line {at + 1}: expected {HEADER!r}")
        at += 1
        extra = None
        if at < len(lines) and lines[at].startswith("extra "):
            extra = _b64(lines[at][6:], "the extra line")
            at += 1
        index_text = lines[at][6:] if at < len(lines) and lines[at].startswith("index ") else ""
        if not index_text.isdecimal() or not index_text.isascii() or (
                index_text != "0" and index_text.startswith("0")):
            raise ProofFormatError(f"line {at + 1}: expected 'index <n>'")
        at += 1
        hashes = []
        while at < len(lines) and lines[at]:
            hashes.append(_b64(lines[at], f"line {at + 1}"))
            at += 1
        at += 1  # the empty line
        start = at
        while at < len(lines) and lines[at]:
            at += 1  # the checkpoint's text
        at += 1
        while at < len(lines) and lines[at].startswith(_DASH):
            at += 1  # its signatures
        if at > len(lines) or start >= len(lines):
            raise ProofFormatError("a tlog proof ends before its checkpoint")
        proofs.append((extra, int(index_text), hashes, "\n".join(lines[start:at]) + "\n"))
    if not proofs:
        raise ProofFormatError("no tlog proof")
    return proofs


def as_bundle(text: str) -> dict[str, Any]:
    """The unit bundle a unit's tlog proofs amount to (every proof under one checkpoint, each
    carrying its record as ``extra``), for ``verify_unit_bundle``."""
    proofs = parse_proofs(text)
    notes = {note for _, _, _, note in proofs}
    if len(notes) != 1:
        raise ProofFormatError("the proofs are under different checkpoints")
    records = []
    for extra, index, hashes, _ in proofs:
        if extra is None:
            raise ProofFormatError(f"the proof of index {index} carries no record (extra line)")
        try:
            record = extra.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofFormatError(f"the record of index {index} is not UTF-8") from None
        records.append({"position": index + 1, "record": record,
                        "proof": [b64(h) for h in hashes]})
    return {"format": BUNDLE_FORMAT, "unit_id": None, "checkpoint": notes.pop(),
            "records": records}
