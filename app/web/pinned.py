"""The keys a page pins for verification in the browser: the log's signing key and the
witnesses' cosigning keys, as the service is configured with them.

The page renders them; ``verify.js`` checks every signature against them and nothing else. The
log key is the newest key of the manifest still in its validity window (every current key signs
every checkpoint, so any one of them opens the latest); the witness keys are
``BLOODTRACE_WITNESSES``, with ``witness_quorum``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.store.checkpoint_store import key_manifest
from app.store.conn import Conn


@dataclass(frozen=True, slots=True)
class PinnedKeys:
    log_key: str
    """The vkey checkpoints are checked against (empty before the log has signed at all)."""
    witness_keys: list[str]
    witness_quorum: int
    time_zone: str
    """Where the pages show times: the module shows the witnesses' cosigning times there."""

    def context(self) -> dict[str, Any]:
        """What ``_verification.html`` and the audit page's sections read."""
        return {"log_key": self.log_key, "witness_keys": self.witness_keys,
                "witness_quorum": self.witness_quorum, "verify_time_zone": self.time_zone}


async def pinned_keys(con: Conn, settings: Settings) -> PinnedKeys:
    current = [k for k in await key_manifest(con) if k["valid_until"] is None]
    log_key = str(current[-1]["vkey"]) if current else ""
    return PinnedKeys(log_key, [w.vkey for w in settings.witnesses], settings.witness_quorum,
                      settings.display_time_zone)
