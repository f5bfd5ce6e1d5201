"""Base64 as the log spells hashes, keys and signatures: the standard alphabet, with padding,
no newline (as in C2SP notes and checkpoints), pure."""

from __future__ import annotations

import binascii


def b64(value: bytes) -> str:
    """``value`` in standard base64."""
    return binascii.b2a_base64(value, newline=False).decode("ascii")
