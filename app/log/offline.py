"""The auditor's offline verifier of an export, pure: no database, no server, constant memory.

The format is described in ``app/log/export.py``. Every record is re-hashed, the chain and the
Merkle tree are recomputed from the re-hashed leaves, and at every checkpoint the root and the
chain head must equal the signed ones, under a signature by a pinned key (the key lines of the
file are never trusted). Successive checkpoints are consistent by construction: each root is
computed by extending the very tree that gave the one before. The export must end with a
checkpoint covering its last record and reach the ``to`` it declares; otherwise it fails,
naming the first position that nothing signed vouches for.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import orjson

from app.log.encoding import b64
from app.log.merkle import CompactRange, extend
from app.log.notes import NoteError, UnknownKeyError, VerifierKey, open_checkpoint, parse_note
from app.log.quorum import WitnessPolicy
from app.log.record import CHAIN_PREFIX, GENESIS, LEAF_PREFIX

EXPORT_FORMAT = "bloodtrace-export/v1"
PROGRESS_EVERY = 8192
Progress = Callable[[int], None]
"""Called with the position reached, every PROGRESS_EVERY lines and at the end."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """The verdict. ``verified_to`` is the size of the last checkpoint that checked out."""

    ok: bool
    checked: int
    first_bad_position: int | None
    reason: str | None
    bad_checkpoint: int | None = None
    verified_to: int = 0
    checkpoints: int = 0
    witness_quorum: int | None = None
    """With a witness policy: the quorum of pinned witnesses the closing checkpoint met."""
    witnessed_size: int | None = None
    """With a newer witnessed checkpoint (``--latest``): the log's size it proves."""
    complete: bool | None = None
    """With one: whether the export reaches it (False: the export was cut before it)."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Fault(Exception):
    """A reason to refuse the export: the first bad position and/or checkpoint, and why."""

    def __init__(self, position: int | None, reason: str, checkpoint: int | None = None) -> None:
        super().__init__(reason)
        self.position, self.reason, self.checkpoint = position, reason, checkpoint


def _hash(text: Any, what: str, position: int | None) -> bytes:
    try:
        value = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, TypeError, ValueError):
        raise Fault(position, f"{what} is not base64") from None
    if len(value) != 32:
        raise Fault(position, f"{what} is not 32 bytes")
    return value


def _span(first: int, last: int) -> str:
    return f"record {first} is" if first == last else f"records {first}..{last} are"


@dataclass(slots=True)
class Pending:
    """A checkpoint whose signature checked out, with what the records say at its size.

    ``nodes`` is the compact range of the leaves from the run's ``begin`` to ``size``: a run
    over a middle slice of an export (see ``offline_parallel``) cannot know the root, so the
    one who joins the slices settles it.
    """

    size: int
    root: bytes
    chain_head: bytes | None
    chain: bytes
    nodes: list[bytes]


class Verification:
    """The state of one verification of an export; ``feed`` holds the hot loop.

    With ``segment=(position, chain)`` it verifies a slice of an export whose records follow
    ``position`` and whose chain continues from ``chain``; checkpoints are left ``pending``.
    """

    def __init__(self, keys: Sequence[VerifierKey], min_size: int = 0, *,
                 header: dict[str, Any] | None = None,
                 segment: tuple[int, bytes] | None = None) -> None:
        self.keys = list(keys)
        self.min_size = min_size
        self.header = header
        self.listed: dict[tuple[str, str], str] = {}
        self.size, self.chain = segment if segment is not None else (0, GENESIS)
        self.begin = self.size if segment is not None else 0
        self.pending: list[Pending] | None = [] if segment is not None else None
        self.hashes: list[bytes] = []
        self.started = segment is not None
        self.verified_to = 0
        self.checkpoints = 0

    def feed(self, lines: Iterable[bytes], progress: Progress | None) -> None:
        leaf_hash, link_hash = LEAF_PREFIX.copy, CHAIN_PREFIX.copy
        loads = orjson.loads
        b2a = binascii.b2a_base64  # b64() inlined: a call per hash shows in this loop
        size, chain, started = self.size, self.chain, self.started
        # The leaves since the last line of another kind join the Merkle compact range in one
        # step (``merkle.extend``), before that line is read and at the end.
        leaves: list[bytes] = []
        keep = leaves.append
        tick = PROGRESS_EVERY
        try:
            for line in lines:
                tick -= 1
                if not tick:
                    tick = PROGRESS_EVERY
                    if progress is not None:
                        progress(size)
                try:
                    obj = loads(line)
                    if obj["kind"] == "record" and started:
                        position = obj["position"]
                        if position != size + 1:
                            raise self._misplaced(position, size)
                        text = obj.get("record")
                        record = text.encode() if type(text) is str else self._b64_record(obj)
                        at = record.rfind(b',"position":')
                        if at < 0 or not record.startswith(b"%d," % position, at + 12):
                            raise Fault(position,
                                        f"record {position} does not hold its own position")
                        h = leaf_hash()
                        h.update(record)
                        leaf = h.digest()
                        h = link_hash()
                        h.update(chain + leaf)
                        chain = h.digest()
                        # The stated hashes are redundant, but a verifier that let them differ
                        # would call a changed file intact.
                        if (b2a(leaf, newline=False).decode() != obj["leaf_hash"]
                                or b2a(chain, newline=False).decode() != obj["chain_hash"]):
                            raise self._mismatch(position, leaf, obj)
                        keep(leaf)
                        size += 1
                        continue
                except orjson.JSONDecodeError:
                    if not line.strip():
                        continue
                    raise Fault(size + 1, f"the line after record {size} is not JSON") from None
                except (KeyError, TypeError, AttributeError, UnicodeError):
                    raise Fault(size + 1, f"the line after record {size} is not a well-formed "
                                         "export line") from None
                self._merge(leaves, size)
                self.size, self.chain = size, chain
                self._other(obj)
                size, chain, started = self.size, self.chain, self.started
        finally:
            self._merge(leaves, size)
        self.size, self.chain = size, chain
        if progress is not None:
            progress(size)

    def _merge(self, leaves: list[bytes], size: int) -> None:
        """Add ``leaves``, those of the records up to ``size``, to the compact range."""
        if leaves:
            extend(self.hashes, self.begin, size - len(leaves), leaves)
            leaves.clear()

    def _b64_record(self, obj: dict[str, Any]) -> bytes:
        try:
            return binascii.a2b_base64(obj["record_b64"], strict_mode=True)
        except (binascii.Error, KeyError, TypeError, ValueError):
            raise Fault(obj.get("position"), "record line holds no record") from None

    def _misplaced(self, position: Any, size: int) -> Fault:
        if isinstance(position, int) and position > size + 1:
            return Fault(size + 1, f"{_span(size + 1, position - 1)} missing or out of order "
                                  f"(found record {position} next)")
        return Fault(size + 1, f"record {position} stands where record {size + 1} belongs "
                              "(records reordered or repeated)")

    def _mismatch(self, position: int, leaf: bytes, obj: dict[str, Any]) -> Fault:
        if obj.get("leaf_hash") != b64(leaf):
            return Fault(position, f"record {position} does not hash to its leaf hash "
                                  "(the record was changed)")
        return Fault(position, f"chain hash of record {position} does not follow from the "
                              "records before it")

    def _other(self, obj: Any) -> None:
        kind = obj.get("kind") if isinstance(obj, dict) else None
        where = f"the line after record {self.size}"
        if self.header is None:
            if kind != "header" or obj.get("format") != EXPORT_FORMAT:
                raise Fault(None, f"the first line is not a {EXPORT_FORMAT} header")
            if not isinstance(obj.get("from"), int) or not isinstance(obj.get("to"), int):
                raise Fault(None, "the header lacks its from/to range")
            self.header = obj
        elif kind == "key":
            vkey = str(obj.get("vkey", ""))
            try:
                key = VerifierKey.parse(vkey)
                self.listed[(key.name, key.key_id.hex())] = vkey
            except NoteError:
                raise Fault(None, f"{where}: bad key line") from None
        elif kind == "start":
            self._start(obj)
        elif kind == "record":
            raise Fault(self.size + 1, "a record before the start line")
        elif kind == "checkpoint":
            self._checkpoint(obj)
        else:
            raise Fault(self.size + 1, f"{where}: unknown line kind {kind!r}")

    def _start(self, obj: dict[str, Any]) -> None:
        assert self.header is not None
        size = obj.get("size")
        if self.started or size != self.header["from"] - 1 or not isinstance(size, int):
            raise Fault(None, "the start line does not match the header's range")
        chain = _hash(obj.get("chain_hash"), "start chain hash", None)
        nodes = obj.get("compact_range")
        if not isinstance(nodes, list) or len(nodes) != size.bit_count():
            raise Fault(None, "the start compact range does not fit its size")
        hashes = [_hash(h, "start compact range", None) for h in nodes]
        if size == 0 and chain != GENESIS:
            raise Fault(None, "an export from position 1 starts at the genesis chain hash")
        self.size, self.chain, self.hashes[:] = size, chain, hashes
        self.verified_to = size if size == 0 else -1
        self.started = True

    def _checkpoint(self, obj: dict[str, Any]) -> None:
        size, note = obj.get("size"), obj.get("note")
        if not isinstance(size, int) or not isinstance(note, str) or not self.started:
            raise Fault(self.size + 1, "malformed checkpoint line", size)
        if size != self.size:
            missing = f"; {_span(self.size + 1, size)} missing" if size > self.size else ""
            raise Fault(self.size + 1, f"checkpoint {size} stands after record {self.size}"
                                      f"{missing}", size)
        try:
            checkpoint, _ = open_checkpoint(note, self.keys)
        except UnknownKeyError as exc:
            raise Fault(None, f"checkpoint {size}: {exc}{self._listed_hint(note)}", size) from None
        except NoteError as exc:
            raise Fault(None, f"checkpoint {size}: {exc}", size) from None
        assert self.header is not None
        if checkpoint.size != size or checkpoint.origin != self.header.get("origin"):
            raise Fault(None, f"checkpoint {size} signs origin {checkpoint.origin!r} and size "
                             f"{checkpoint.size}, not this export's", size)
        pending = Pending(size, checkpoint.root, checkpoint.chain_head, self.chain,
                          list(self.hashes))
        if self.pending is not None:
            self.pending.append(pending)
            return
        self.settle(pending, CompactRange(size, pending.nodes).root())

    def settle(self, pending: Pending, root: bytes) -> None:
        """Compare what the records give at a checkpoint with what it signs."""
        assert self.header is not None
        size = pending.size
        since = min(max(self.verified_to, self.header["from"] - 1) + 1, size)
        if root != pending.root:
            raise Fault(since, f"the Merkle root of the records up to {size} differs from "
                              f"checkpoint {size}: a record in {since}..{size} or the start "
                              "line was changed", size)
        if pending.chain_head != pending.chain:
            raise Fault(since, f"the chain head differs from checkpoint {size}", size)
        self.verified_to = size
        self.checkpoints += 1

    def _listed_hint(self, note: str) -> str:
        """Name the signing keys the file lists but the auditor did not pin."""
        names = [(s.name, s.key_id.hex()) for s in parse_note(note).signatures]
        listed = [self.listed[n] for n in names if n in self.listed]
        return f" (the export lists {', '.join(listed)}, which is not pinned)" if listed else ""

    def finish(self) -> ExportReport:
        header = self.header
        if header is None:
            raise Fault(None, "the export is empty")
        last, to = self.size, header["to"]
        if not self.started:
            raise Fault(header["from"], "the export holds no records")
        if last < to:
            raise Fault(last + 1, f"the export ends at record {last} but declares records up to "
                                 f"{to}: it was truncated")
        if last > to:
            raise Fault(to + 1, f"the export holds records past the {to} it declares")
        if self.verified_to < last:
            since = max(self.verified_to, header["from"] - 1) + 1
            raise Fault(since, f"records {since}..{last} are not covered by a signed checkpoint "
                              f"(verified up to {max(self.verified_to, 0)})")
        if self.verified_to < self.min_size:
            raise Fault(self.verified_to + 1, f"the last checkpoint covers {self.verified_to} "
                                             f"records, fewer than the {self.min_size} required")
        return self.report(True)

    def report(self, ok: bool, bad: Fault | None = None) -> ExportReport:
        checked = self.size - (self.header["from"] - 1 if self.header and self.started else 0)
        return ExportReport(
            ok, max(checked, 0), bad.position if bad else None, bad.reason if bad else None,
            bad.checkpoint if bad else None, max(self.verified_to, 0), self.checkpoints,
        )


def verify_export(lines: Iterable[bytes], keys: Sequence[VerifierKey], *,
                  progress: Progress | None = None, min_size: int = 0) -> ExportReport:
    """Verify an export given as lines of bytes against the pinned ``keys``.

    ``min_size``: fail unless a checkpoint covering at least that many records checks out
    (an auditor who knows the log reached N uses it to refuse a cut-back export).
    """
    run = Verification(keys, min_size)
    try:
        run.feed(lines, progress)
        return run.finish()
    except Fault as bad:
        return run.report(False, bad)



def closing_note(tail: bytes, size: int) -> str | None:
    """The note of the last checkpoint line for ``size`` among an export's last bytes."""
    for line in reversed(tail.splitlines()):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # the cut-off first line, or a blank one
        if isinstance(obj, dict) and obj.get("kind") == "checkpoint" and obj.get("size") == size:
            note = obj.get("note")
            return note if isinstance(note, str) else None
    return None


def witnessed(report: ExportReport, note: str | None, policy: WitnessPolicy) -> ExportReport:
    """The verdict once the checkpoint that closes the export (``note``, its line's note) is
    held to the witness policy. Earlier checkpoints are consistent with it by construction,
    so the closing one is the one whose cosignatures vouch for the whole export."""
    if not report.ok:
        return report
    size = report.verified_to
    why = (f"checkpoint {size}: its line was not found at the end of the export"
           if note is None else policy.failure(note, f"checkpoint {size}"))
    if why is not None:
        return replace(report, ok=False, reason=why, bad_checkpoint=size)
    return replace(report, witness_quorum=policy.quorum)


def against_latest(report: ExportReport, latest: str, keys: Sequence[VerifierKey],
                   policy: WitnessPolicy, closing: str | None) -> ExportReport:
    """Settle the export's cut with ``latest``, a checkpoint the pinned witnesses cosigned
    (from a witness's monitoring endpoint, say). A file alone cannot show that it was cut at
    a checkpoint; a witnessed head newer than its end can. A head of the export's own size
    with another root is a fork; one smaller says nothing more."""
    if not report.ok:
        return report
    try:
        head, _ = open_checkpoint(latest, keys)
    except NoteError as exc:
        return replace(report, ok=False, reason=f"the latest checkpoint: {exc}")
    why = policy.failure(latest, f"the latest checkpoint ({head.size})")
    if why is not None:
        return replace(report, ok=False, reason=why)
    assert report.verified_to >= 0
    end = report.verified_to
    if head.size == end:
        mine = open_checkpoint(closing, keys)[0] if closing is not None else None
        if mine is None or mine.root != head.root:
            return replace(report, ok=False, bad_checkpoint=end, reason=(
                f"fork: the witnessed checkpoint {end} signs another root than the export's"))
    return replace(report, witnessed_size=head.size, complete=end >= head.size)
