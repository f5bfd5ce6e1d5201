"""Where the vault's two secrets come from: the master key (wraps every donor's data key)
and the pepper (makes pseudonyms and blind indexes). Each is 32 bytes, given inline as
base64 (``BLOODTRACE_VAULT_MASTER_KEY``, ``BLOODTRACE_VAULT_PEPPER``), as a file named in the
settings, or, with neither, generated on first start into ``data_dir/vault/`` (mode 0600) for
the demo. A named file that cannot be read stops the start; it is never replaced."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from app.config import Settings
from app.errors import VaultKeyMismatch

log = logging.getLogger(__name__)
SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class VaultSecrets:
    master_key: bytes
    pepper: bytes
    master_key_source: str
    """Where the master key came from (a path, or "environment"), for ``make run``."""


def default_master_key_file(settings: Settings) -> Path:
    return settings.data_dir / "vault" / "master.key"


def default_pepper_file(settings: Settings) -> Path:
    return settings.data_dir / "vault" / "pepper.key"


def _decode(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VaultKeyMismatch(f"the vault {what} is not base64") from None
    if len(raw) != SECRET_BYTES:
        raise VaultKeyMismatch(f"the vault {what} must be {SECRET_BYTES} bytes, not {len(raw)}")
    return raw


def _generate(path: Path) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False  # another process won the race; use its secret
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode() + "\n")
    return True


def _load(inline: str | None, named: Path | None, default: Path, what: str) -> tuple[bytes, str]:
    if inline:
        return _decode(inline, what), "environment"
    path = named if named is not None else default
    if named is None and _generate(path):
        log.warning("generated a new vault %s in %s", what, path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise VaultKeyMismatch(f"cannot read the vault {what} {path}: {exc}") from None
    return _decode(text, f"{what} in {path}"), str(path)


def load_vault_secrets(settings: Settings) -> VaultSecrets:
    """The master key and the pepper from the settings (generated at the default paths)."""
    master, source = _load(settings.vault_master_key, settings.vault_master_key_file,
                           default_master_key_file(settings), "master key")
    pepper, _ = _load(settings.vault_pepper, settings.vault_pepper_file,
                      default_pepper_file(settings), "pepper")
    return VaultSecrets(master, pepper, source)
