"""Debian's Chromium for the browser tests (Playwright's own download does not work here):
installed with apt-get when missing and running as root, as CI starts from a fresh machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PACKAGES = ("chromium",)


def ensure_chromium() -> Path:
    """The Chromium binary, or RuntimeError saying what to install."""
    if not CHROMIUM.exists() and os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", *PACKAGES], env=env, **quiet).returncode:
            subprocess.run(["apt-get", "update"], env=env, **quiet)
            subprocess.run(["apt-get", "install", "-y", *PACKAGES], env=env, **quiet)
    if not CHROMIUM.exists():
        raise RuntimeError(f"Chromium is not installed: apt-get install {' '.join(PACKAGES)}")
    return CHROMIUM
