"""A witness of the log: ``bloodtrace witness URL --state FILE --log-key VKEY --key FILE``.

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
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import orjson

from app.log.checkpoints import generate_key_file, parse_private_keys
from app.log.encoding import b64
from app.log.merkle import ProofError, verify_consistency
from app.log.notes import (
    COSIGNATURE_V1,
    NoteError,
    NoteSigner,
    VerifierKey,
    add_signature,
    open_checkpoint,
)


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
    def latest_note(self) -> str: ...

    def consistency(self, from_size: int, to_size: int) -> list[bytes]: ...


class HttpLog:
    """The log's HTTP API (``/v1/checkpoints/latest``, ``/v1/proofs/consistency``)."""

    def __init__(self, base_url: str, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=30)

    def _get(self, path: str, **params: int) -> dict[str, object]:
        response = self.client.get(path, params=params)
        if response.status_code != 200:
            raise WitnessRefusal(f"GET {path}: HTTP {response.status_code} {response.text[:200]}")
        body: dict[str, object] = response.json()
        return body

    def latest_note(self) -> str:
        return str(self._get("/v1/checkpoints/latest")["note"])

    def consistency(self, from_size: int, to_size: int) -> list[bytes]:
        body = self._get("/v1/proofs/consistency", from_size=from_size, to_size=to_size)
        proof = body.get("proof")
        if not isinstance(proof, list):
            raise WitnessRefusal("the consistency proof is malformed")
        return [binascii.a2b_base64(str(h)) for h in proof]


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


def witness_signer(key_file: Path, name: str) -> tuple[NoteSigner, bool]:
    """The witness's cosigner, generating its key on first use; True when just generated."""
    created = generate_key_file(key_file) is not None
    key = parse_private_keys(key_file.read_bytes())[0]
    return NoteSigner(name, key, COSIGNATURE_V1), created


def load_state(path: Path) -> WitnessState | None:
    return WitnessState.from_json(path.read_bytes()) if path.exists() else None


def save_state(path: Path, state: WitnessState) -> None:
    """Replace the state atomically: a crash leaves the old state or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(state.to_json())
    os.replace(temporary, path)


def run_witness(
    log: LogClient, state_path: Path, log_keys: Sequence[VerifierKey], signer: NoteSigner,
) -> tuple[WitnessState | None, WitnessState]:
    """One round: fetch, check, cosign, save. Returns (previous state, new state)."""
    previous = load_state(state_path)
    state = witness_step(previous, log.latest_note(), log_keys, log.consistency, signer,
                         int(time.time()))
    save_state(state_path, state)
    return previous, state
