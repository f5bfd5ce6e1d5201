"""Writers that append through the API and keep an exact account of every answer.

Each writer sends one ``DonorRegistered`` at a time and retries it with the same
``event_id`` until it gets a 2xx: a 503 is the only other answer allowed. Every event a
writer started therefore ends acknowledged, so the log must hold exactly the acknowledged
events, each once, at the position its acknowledgement named.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

PROBLEM = "application/problem+json"


@dataclass(slots=True)
class Ack:
    event_id: str
    position: int
    sent: float
    """When the attempt that got the 2xx was sent (monotonic)."""
    done: float
    replayed: bool
    after_unknown: bool
    """An earlier attempt of this event was answered ``outcome: unknown``."""


@dataclass
class Load:
    http: httpx.AsyncClient
    headers: dict[str, str]
    writers: int = 16
    acks: list[Ack] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    unavailable: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    """The 503 answers by rule (``outcome-unknown``: the writer lost the commit itself)."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._writer(i)) for i in range(self.writers)]

    async def finish(self) -> None:
        """Let every writer land the event it is on, then stop."""
        self.stop.set()
        await asyncio.gather(*self._tasks)

    async def wait_for(self, count: int, timeout_s: float, since: float = 0.0) -> None:
        """Until ``count`` events sent after ``since`` are acknowledged."""
        deadline = time.monotonic() + timeout_s
        while sum(a.sent > since for a in self.acks) < count:
            for task in self._tasks:
                if task.done():
                    task.result()  # a writer's failed assertion surfaces here
            assert time.monotonic() < deadline, (
                f"only {sum(a.sent > since for a in self.acks)} of {count} acknowledged in "
                f"{timeout_s:.0f}s ({self.unavailable} answers 503)")
            await asyncio.sleep(0.05)

    async def _writer(self, index: int) -> None:
        while not self.stop.is_set():
            n = next(self._seq)
            body = {"type": "DonorRegistered", "event_id": str(uuid.uuid4()),
                    "data": {"donor_id": f"DNR-{index:02d}-{n:06d}"}}
            await self.land(body)

    async def land(self, body: dict[str, Any]) -> int:
        """Send ``body`` until it is acknowledged; its position."""
        event_id = body["event_id"]
        after_unknown = False
        while True:
            sent = time.monotonic()
            try:
                response = await self.http.post("/v1/events", json=body, headers=self.headers)
            except httpx.TransportError:  # never expected in-process; retry all the same
                await asyncio.sleep(0.1)
                continue
            if response.status_code in (200, 201):
                answer = response.json()
                assert answer["event_id"] == event_id
                self.acks.append(Ack(event_id, answer["position"], sent, time.monotonic(),
                                     response.headers.get("idempotent-replay") == "true",
                                     after_unknown))
                return int(answer["position"])
            assert response.status_code == 503, response.text
            assert response.headers["content-type"].startswith(PROBLEM)
            assert response.headers.get("retry-after")
            problem = response.json()
            self.unavailable += 1
            self.rules[problem["rule"]] += 1
            if problem.get("outcome") == "unknown":
                assert problem.get("event_id") == event_id
                self.unknown.add(event_id)
                after_unknown = True
            await asyncio.sleep(0.1)

    def longest_gap(self, start: float, end: float) -> float:
        """The longest time within [start, end] with no acknowledgement at all."""
        times = sorted([start, *(a.done for a in self.acks if start < a.done < end), end])
        return max(b - a for a, b in itertools.pairwise(times))
