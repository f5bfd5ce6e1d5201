"""The HTTP load generator: ``wrk`` in its own process, driven by a Lua script that makes
every request body unique. (httpx's async client stalls at a few hundred requests/s here, so
it would measure itself, not the server.)"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPORT = "wrk_report.lua"


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    seconds: float
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float


def ensure_wrk() -> str:
    """The wrk binary; installed with apt-get when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        def apt(*args: str) -> int:
            return subprocess.run(["apt-get", *args], check=False, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode

        if apt("install", "-y", "wrk"):
            apt("update")
            apt("install", "-y", "wrk")
        found = shutil.which("wrk")
        if found:
            return found
    raise RuntimeError("wrk is not installed: apt-get install wrk")


def run_wrk(url: str, script: str, args: list[str], *, connections: int, threads: int,
            seconds: int, timeout_s: int = 10) -> WrkResult:
    """Run ``bench/<script>`` against ``url`` for ``seconds``; the script's ``done`` prints
    one ``RESULT {json}`` line (``wrk_get.lua``: plain GETs of the url's path)."""
    with tempfile.TemporaryDirectory() as tmp:
        combined = Path(tmp) / script  # the workload, then the one shared RESULT reporter
        combined.write_text((HERE / script).read_text() + "\n" + (HERE / REPORT).read_text())
        cmd = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
               f"--timeout={timeout_s}s", "-s", str(combined), url, "--", *args]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    raw = json.loads(line.removeprefix("RESULT "))
    return WrkResult(
        requests=raw["requests"], seconds=raw["duration_us"] / 1e6, non2xx=raw["non2xx"],
        socket_errors=raw["socket_errors"], p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )
