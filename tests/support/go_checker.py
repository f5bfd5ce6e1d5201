"""Go's reference tlog code as a test oracle: Debian's ``golang-go`` and
``golang-golang-x-mod-dev`` (installed with apt-get when missing and running as root), and
``tests/go/tlogcheck`` built against them in GOPATH mode."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOPATH = "/usr/share/gocode"
PACKAGES = ("golang-go", "golang-golang-x-mod-dev")


def _installed() -> bool:
    tlog = Path(GOPATH, "src/golang.org/x/mod/sumdb/tlog")
    return shutil.which("go") is not None and tlog.is_dir()


def ensure_go() -> str:
    """The ``go`` binary with x/mod in GOPATH, or RuntimeError saying what to install."""
    if not _installed() and os.geteuid() == 0 and shutil.which("apt-get"):
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": False}
        if subprocess.run(["apt-get", "install", "-y", *PACKAGES], **quiet).returncode:
            subprocess.run(["apt-get", "update"], **quiet)
            subprocess.run(["apt-get", "install", "-y", *PACKAGES], **quiet)
    if not _installed():
        raise RuntimeError(f"Go's tlog is not installed: apt-get install {' '.join(PACKAGES)}")
    go = shutil.which("go")
    assert go is not None
    return go


def build_checker(out: Path) -> Path:
    """Build ``tlogcheck`` into ``out`` and return its path."""
    go = ensure_go()
    binary = out / "tlogcheck"
    env = os.environ | {"GOPATH": GOPATH, "GO111MODULE": "off", "GOCACHE": str(out / "cache"),
                        "GOFLAGS": ""}
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=ROOT / "tests/go/tlogcheck",
                   env=env, check=True, capture_output=True)
    return binary
