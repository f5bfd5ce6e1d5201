"""One witness round with its side effects: the witness's key file, its state file, the clock
and the log (any ``LogClient``, such as ``app.witness.http_log.HttpLog``)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from app.log.checkpoints import parse_private_keys
from app.log.notes import COSIGNATURE_V1, NoteSigner, VerifierKey
from app.log.witness import LogClient, WitnessState, witness_step
from app.signing_keys import generate_key_file


def witness_signer(key_file: Path, name: str) -> tuple[NoteSigner, bool]:
    """The witness's cosigner, generating its key on first use; True when just generated."""
    created = generate_key_file(key_file) is not None
    key = parse_private_keys(key_file.read_bytes())[0]
    return NoteSigner(name, key, COSIGNATURE_V1), created


def load_state(path: Path) -> WitnessState | None:
    """What the witness saw last, or None before its first round."""
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
