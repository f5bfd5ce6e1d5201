"""A witness policy, pure: which witnesses an auditor pins and how many of them must have
cosigned a checkpoint (tlog-cosignature, "k valid cosignatures out of n known witnesses").

A pinned witness's cosignature that does not verify fails the check by name: that witness
vouched for another tree under this log's name (a split view), or the line was altered.
Cosignatures by keys that are not pinned are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.log.notes import NoteError, VerifierKey, parse_note


@dataclass(frozen=True, slots=True)
class WitnessPolicy:
    witnesses: tuple[VerifierKey, ...]
    quorum: int

    def failure(self, note: str, what: str) -> str | None:
        """Why ``note`` (``what``, e.g. "checkpoint 35") falls short, or None when at least
        ``quorum`` pinned witnesses validly cosigned it."""
        try:
            parsed = parse_note(note)
        except NoteError as exc:
            return f"{what}: {exc}"
        text = parsed.text.encode()
        good: list[VerifierKey] = []
        for key in self.witnesses:
            lines = [s for s in parsed.signatures if (s.name, s.key_id) == (key.name, key.key_id)]
            for line in lines:
                if not key.verify(text, line.blob):
                    return (f"{what}: the cosignature by witness {key} does not verify (it "
                            "cosigned another tree, or the line was altered)")
            if lines and key not in good:
                good.append(key)
        if len(good) < self.quorum:
            missing = [str(k) for k in self.witnesses if k not in good]
            return (f"{what}: cosigned by {len(good)} of the {self.quorum} pinned witnesses "
                    f"required (no cosignature by {', '.join(missing)})")
        return None


def policy(witnesses: Sequence[VerifierKey], quorum: int | None) -> WitnessPolicy | None:
    """The policy for the command line's ``--witness`` keys and ``--quorum`` (default 1 when
    any witness is pinned); None with neither."""
    if not witnesses and not quorum:
        return None
    need = 1 if quorum is None else quorum
    if need < 1 or need > len(witnesses):
        raise NoteError(f"a quorum of {need} needs at least that many pinned witnesses "
                        f"({len(witnesses)} pinned)")
    return WitnessPolicy(tuple(witnesses), need)
