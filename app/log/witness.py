"""A witness of the log, pure: what it vouches for (``bloodtrace witness``; the witness's
HTTP client, files and clock are ``app/witness/``).

Run by a third party (a regional directorate, an NGO), it fetches the latest checkpoint, checks
the log's signature with the pinned log key, and checks that the new tree extends the last one
it saw (an RFC 9162 consistency proof from the log). A log that shrank or forked is refused and
the state is left as it was; otherwise the witness cosigns the checkpoint with its own key
(a tlog-cosignature/v1 Ed25519 cosignature) and records it. Anyone who pins the witness key
can then require that cosignature: a log that shows different histories to different people
would need a witness to sign a fork.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import orjson

from app.log.encoding import b64
from app.log.merkle import ProofError, verify_consistency
from app.log.notes import NoteError, NoteSigner, VerifierKey, add_signature, open_checkpoint


class WitnessRefusal(Exception):
    """The log's new checkpoint is not one the witness will vouch for."""


@dataclass(frozen=True, slots=True)
class WitnessState:
    """The last checkpoint the witness vouched for, and its cosigned note."""

    origin: str
    size: int
    root: bytes
    note: str

    def to_json(self) -> bytes:
        return orjson.dumps({"origin": self.origin, "size": self.size, "root": b64(self.root),
                             "note": self.note}, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes) -> WitnessState:
        obj = orjson.loads(raw)
        return cls(obj["origin"], int(obj["size"]), binascii.a2b_base64(obj["root"]),
                   obj["note"])


class LogClient(Protocol):
    """What a witness reads from the log: its latest signed checkpoint, and proofs."""

    def latest_note(self) -> str: ...

    def consistency(self, from_size: int, to_size: int) -> list[bytes]: ...


def witness_step(
    state: WitnessState | None, note: str, log_keys: Sequence[VerifierKey],
    consistency: Callable[[int, int], list[bytes]], signer: NoteSigner, now: int,
) -> WitnessState:
    """Vouch for ``note`` after ``state``, or raise WitnessRefusal. Pure but for ``consistency``."""
    try:
        checkpoint, _ = open_checkpoint(note, log_keys)
    except NoteError as exc:
        raise WitnessRefusal(f"the checkpoint is not signed by the pinned log key: {exc}") from None
    if state is not None:
        if checkpoint.origin != state.origin:
            raise WitnessRefusal(f"origin changed from {state.origin!r} to {checkpoint.origin!r}")
        if checkpoint.size < state.size:
            raise WitnessRefusal(f"the log shrank: it had {state.size} records, now claims "
                                 f"{checkpoint.size}")
        if checkpoint.size == state.size and checkpoint.root != state.root:
            raise WitnessRefusal(f"fork: two different trees of {state.size} records")
        if checkpoint.size > state.size:
            try:
                proof = consistency(state.size, checkpoint.size)
                verify_consistency(state.size, checkpoint.size, proof, state.root,
                                   checkpoint.root)
            except (ProofError, binascii.Error) as exc:
                raise WitnessRefusal(f"fork: the tree of {checkpoint.size} does not extend the "
                                     f"tree of {state.size} it saw ({exc})") from None
    cosigned = add_signature(note, signer, timestamp=now)
    return WitnessState(checkpoint.origin, checkpoint.size, checkpoint.root, cosigned)
