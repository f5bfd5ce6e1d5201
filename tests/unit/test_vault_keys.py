"""Where the vault's master key and pepper come from: inline, a named file, or generated on
first start (mode 0600) and reused after; anything unreadable stops the start."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from app.config import Settings
from app.errors import VaultKeyMismatch
from app.vault.keys import load_vault_secrets


def settings(tmp_path: Path, **given: object) -> Settings:
    return Settings(database_url="postgresql://unused/x", data_dir=tmp_path, **given)


def test_generated_once_private_and_reused(tmp_path: Path) -> None:
    first = load_vault_secrets(settings(tmp_path))
    master = tmp_path / "vault" / "master.key"
    assert first.master_key_source == str(master)
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "vault" / "pepper.key").stat().st_mode) == 0o600
    again = load_vault_secrets(settings(tmp_path))
    assert (again.master_key, again.pepper) == (first.master_key, first.pepper)
    assert len(first.master_key) == 32 and first.master_key != first.pepper


def test_inline_secrets_win_and_are_checked(tmp_path: Path) -> None:
    key, pepper = base64.b64encode(b"k" * 32).decode(), base64.b64encode(b"p" * 32).decode()
    loaded = load_vault_secrets(settings(tmp_path, vault_master_key=key, vault_pepper=pepper))
    assert (loaded.master_key, loaded.pepper, loaded.master_key_source) == (
        b"k" * 32, b"p" * 32, "environment")
    assert not (tmp_path / "vault").exists()
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(VaultKeyMismatch, match="master key"):
            load_vault_secrets(settings(tmp_path, vault_master_key=bad))


def test_a_named_file_is_never_generated(tmp_path: Path) -> None:
    named = tmp_path / "elsewhere" / "pepper.key"
    with pytest.raises(VaultKeyMismatch, match="cannot read the vault pepper"):
        load_vault_secrets(settings(tmp_path, vault_pepper_file=named))
    assert not named.exists()
    named.parent.mkdir()
    named.write_text(base64.b64encode(b"q" * 32).decode() + "\n")
    assert load_vault_secrets(settings(tmp_path, vault_pepper_file=named)).pepper == b"q" * 32
