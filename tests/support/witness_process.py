"""Run ``bloodtrace witness serve`` as a child process on a free port."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.server import ROOT, free_port


class WitnessProcess:
    """A serving witness: its submission prefix ``url`` and the ``vkey`` it printed."""

    def __init__(self, folder: Path, logs: list[str], name: str = "ngo.example/w") -> None:
        self.folder, self.logs, self.name = folder, logs, name
        self.port = free_port()
        self.key_file = folder / f"{name.replace('/', '_')}.pem"
        self.state = folder / f"{name.replace('/', '_')}.db"
        self.proc: subprocess.Popen[str] | None = None
        self.vkey = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> WitnessProcess:
        args = [sys.executable, "-m", "app.cli", "witness", "serve", "--key", str(self.key_file),
                "--state", str(self.state), "--listen", f"127.0.0.1:{self.port}",
                "--name", self.name]
        for log in self.logs:
            args += ["--log", log]
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        assert first.startswith("vkey: "), first
        self.vkey = first[len("vkey: "):].strip()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/0/checkpoint", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("witness did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
