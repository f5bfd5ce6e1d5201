"""Commands for tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from app.events.messages import Actor, Command, content_hash

ADMIN = Actor(key_id="test-admin", role="admin", site_id=None)


def command(
    type: str, data: dict[str, Any], *, event_id: UUID | None = None,
    actor: Actor = ADMIN, expected_version: int | None = None,
) -> tuple[Command, bytes]:
    now = datetime.now(UTC)
    cmd = Command(type=type, data=data, event_id=event_id or uuid4(), occurred_at=now,
                  recorded_at=now, actor=actor, expected_version=expected_version)
    return cmd, content_hash(cmd, False)


def note(subject: str, text: str = "hello", **kw: Any) -> tuple[Command, bytes]:
    return command("NoteRecorded", {"subject": subject, "text": text}, **kw)


def digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()
