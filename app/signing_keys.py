"""Where the log's signing keys come from: ``BLOODTRACE_SIGNING_KEY`` (inline PEM),
``signing_key_file``, or, with neither, a key generated on first start into
``data_dir/signing-key.pem`` (mode 0600). Reading PEM text is ``app/log/checkpoints.py``
(pure); this module reads the settings and the files."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.config import Settings
from app.log.checkpoints import SigningKeyError, parse_private_keys, private_key_pem
from app.log.notes import NoteSigner

log = logging.getLogger(__name__)
DEFAULT_KEY_FILE = "signing-key.pem"


def generate_key_file(path: Path) -> Ed25519PrivateKey | None:
    """Write a new key to ``path`` (0600); None if the file already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return None  # another process won the race; use its key
    with os.fdopen(fd, "wb") as out:
        out.write(private_key_pem(key))
    return key


def load_signers(settings: Settings) -> list[NoteSigner]:
    """The log's signers: from the settings, or a key generated on first start."""
    if settings.signing_key:
        pem = settings.signing_key.encode()
    elif settings.signing_key_file is not None:
        try:
            pem = settings.signing_key_file.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"cannot read {settings.signing_key_file}: {exc}") from None
    else:
        path = settings.data_dir / DEFAULT_KEY_FILE
        if generate_key_file(path) is not None:
            log.warning("generated a new log signing key in %s", path)
        pem = path.read_bytes()
    return [NoteSigner(settings.log_origin, key) for key in parse_private_keys(pem)]
