"""The tlog-witness v1.0.0 protocol (https://c2sp.org/tlog-witness), pure: both sides of
``add-checkpoint``.

The request body is ``old <size>\\n``, up to 63 consistency proof lines (base64 hashes), an
empty line, then the signed checkpoint. The witness answers with its cosignature lines, or
with one of the spec's status codes: 404 unknown origin, 403 no valid signature by a trusted
log key, 400 a malformed request or old > new, 409 (body: the size it holds, as
``text/x.tlog.size``) when old is not the size it last cosigned, 422 when the consistency
proof (or the empty-tree root, or an equal-size root) does not check out.

``add_checkpoint`` decides; checking the stored size and persisting the new one atomically
is the caller's (``app/witness/state_db.py``).
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.log.encoding import b64
from app.log.merkle import ProofError, verify_consistency
from app.log.notes import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    NoteSigner,
    Signature,
    VerifierKey,
    parse_note,
    verify_note,
)

MAX_PROOF_LINES = 63
EMPTY_ROOT = hashlib.sha256(b"").digest()
SIZE_MEDIA_TYPE = "text/x.tlog.size"


@dataclass(frozen=True, slots=True)
class Request:
    """An add-checkpoint request: the old size, the proof and the signed checkpoint note."""

    old: int
    proof: tuple[bytes, ...]
    note: str

    def body(self) -> bytes:
        lines = [f"old {self.old}\n", *(b64(h) + "\n" for h in self.proof), "\n"]
        return ("".join(lines) + self.note).encode()


class Malformed(ValueError):
    """A request body that is not an add-checkpoint request (400)."""


def _decimal(text: str) -> int:
    if not text.isascii() or not text.isdecimal() or (text != "0" and text.startswith("0")):
        raise Malformed(f"{text!r} is not a decimal size without leading zeroes")
    return int(text)


def parse_request(raw: bytes) -> Request:
    """Parse an add-checkpoint body, or raise Malformed."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise Malformed("no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise Malformed("the first line is not 'old <size>'")
    old = _decimal(lines[0][4:])
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise Malformed(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            value = binascii.a2b_base64(line.encode("ascii"), strict_mode=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise Malformed("a consistency proof line is not base64") from None
        if len(value) != 32:
            raise Malformed("a consistency proof line is not a 32-byte hash")
        proof.append(value)
    return Request(old, tuple(proof), note)


@dataclass(frozen=True, slots=True)
class LogState:
    """What a witness holds for one log: the latest checkpoint it cosigned (size, root)."""

    size: int
    root: bytes


@dataclass(frozen=True, slots=True)
class Answer:
    """The witness's reply: a status, a body and its media type; ``state`` when it cosigned."""

    status: int
    body: str
    media_type: str = "text/plain; charset=utf-8"
    state: LogState | None = None
    origin: str | None = None
    cosigned: str | None = None
    """The checkpoint with the log's and the witness's signatures, when it cosigned."""


def _refuse(status: int, why: str) -> Answer:
    return Answer(status, why + "\n")


def origin_of(raw: bytes) -> str | None:
    """The origin line of an add-checkpoint body, or None when it has none."""
    try:
        return parse_request(raw).note.split("\n", 1)[0]
    except Malformed:
        return None


def add_checkpoint(
    raw: bytes, logs: Mapping[str, Sequence[VerifierKey]], held: Mapping[str, LogState],
    signer: NoteSigner, now: int,
) -> Answer:
    """The witness's answer to an add-checkpoint body, given the logs it follows (origin →
    trusted keys) and the state it holds per origin. Pure."""
    try:
        request = parse_request(raw)
        note = parse_note(request.note)
    except (Malformed, NoteError) as exc:
        return _refuse(400, f"malformed add-checkpoint request: {exc}")
    origin = note.text.split("\n", 1)[0]
    keys = logs.get(origin)
    if keys is None:
        return _refuse(404, f"unknown log origin {origin!r}")
    try:
        verify_note(note, keys)
    except NoteError as exc:
        return _refuse(403, f"checkpoint not signed by a trusted key of {origin}: {exc}")
    try:
        checkpoint = Checkpoint.parse(note.text)
    except NoteError as exc:
        return _refuse(400, f"malformed checkpoint: {exc}")
    if request.old > checkpoint.size:
        return _refuse(400, f"old size {request.old} is larger than the checkpoint's "
                            f"{checkpoint.size}")
    state = held.get(origin, LogState(0, EMPTY_ROOT))
    if request.old != state.size:
        return Answer(409, f"{state.size}\n", SIZE_MEDIA_TYPE)
    failed = _consistency_failure(request, checkpoint, state)
    if failed:
        return _refuse(422, failed)
    timestamp = max(now, 1)  # the spec forbids a zero timestamp
    line = signer.sign(note.text, timestamp).line()
    return Answer(200, line, state=LogState(checkpoint.size, checkpoint.root), origin=origin,
                  cosigned=request.note + line)


def _consistency_failure(request: Request, checkpoint: Checkpoint, state: LogState) -> str:
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        return "a checkpoint of size 0 must carry the empty tree's root"
    if request.old == 0:
        return "a proof from size 0 must be empty" if request.proof else ""
    if request.old == checkpoint.size:
        if request.proof:
            return "a proof between equal sizes must be empty"
        if checkpoint.root != state.root:
            return f"fork: a different root for the {checkpoint.size} records already cosigned"
        return ""
    try:
        verify_consistency(request.old, checkpoint.size, list(request.proof), state.root,
                           checkpoint.root)
    except ProofError as exc:
        return (f"the tree of {checkpoint.size} does not extend the tree of {request.old} "
                f"cosigned before: {exc}")
    return ""


# --- the log's side ---------------------------------------------------------------------------


def cosignatures_in(answer: str, note: str, witness: VerifierKey) -> list[Signature]:
    """The signature lines of a 200 answer that are valid cosignatures of ``note`` by
    ``witness`` (others are ignored, as the spec says); NoteError if one by the witness's key
    fails, or if none is by it."""
    if witness.sig_type != COSIGNATURE_V1:
        raise NoteError(f"{witness} is not a cosignature/v1 key")
    parsed = parse_note(note)
    answered = parse_note(parsed.text + "\n" + answer)
    verify_note(answered, [witness])
    mine = (witness.name, witness.key_id)
    return [s for s in answered.signatures if (s.name, s.key_id) == mine]


def with_cosignatures(note: str, lines: Sequence[str]) -> str:
    """The signed note with extra signature lines appended (each ends in a newline)."""
    parsed = parse_note(note)
    present = {s.line() for s in parsed.signatures}
    extra = tuple(parse_note(parsed.text + "\n" + line).signatures[0] for line in lines
                  if line not in present)
    return Note(parsed.text, parsed.signatures + extra).format()
