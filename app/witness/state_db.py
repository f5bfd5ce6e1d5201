"""The serving witness's state: per log origin, the latest checkpoint it cosigned, in SQLite.

add-checkpoint must check the old size against the stored one and persist the new checkpoint
atomically (tlog-witness, the A/B race): ``WitnessStore.add`` holds SQLite's write lock
(``BEGIN IMMEDIATE``) from reading the state to committing the new one, so two requests, two
threads or two processes on the same file cannot roll a log back. A restart reads the same
file, so a fork or a shrink is refused after it as before it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from app.log.tlog_witness import Answer, LogState

_SCHEMA = """CREATE TABLE IF NOT EXISTS cosigned (
    origin TEXT PRIMARY KEY,
    size   INTEGER NOT NULL CHECK (size >= 0),
    root   BLOB NOT NULL CHECK (length(root) = 32),
    note   TEXT NOT NULL
)"""


class WitnessStore:
    """The witness's SQLite file (WAL, synchronous=FULL: a cosignature is never returned for
    a state that a crash could lose)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def held(self, origin: str) -> LogState | None:
        row = self._db.execute("SELECT size, root FROM cosigned WHERE origin = ?",
                               (origin,)).fetchone()
        return None if row is None else LogState(int(row[0]), bytes(row[1]))

    def latest_note(self, origin: str) -> str | None:
        """The last checkpoint cosigned for ``origin``, with the log's and its signatures."""
        row = self._db.execute("SELECT note FROM cosigned WHERE origin = ?",
                               (origin,)).fetchone()
        return None if row is None else str(row[0])

    def add(self, origin: str | None, decide: Callable[[dict[str, LogState]], Answer]) -> Answer:
        """Decide with the state held for ``origin`` and, when the answer cosigns, store the
        new state, all under the write lock."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                held = self.held(origin) if origin is not None else None
                answer = decide({origin: held} if origin is not None and held else {})
                if answer.state is not None and answer.origin is not None:
                    self._db.execute(
                        "INSERT INTO cosigned (origin, size, root, note) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, "
                        "root = excluded.root, note = excluded.note",
                        (answer.origin, answer.state.size, answer.state.root,
                         answer.cosigned or ""))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return answer
