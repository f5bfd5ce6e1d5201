"""The cyclic collector's policy for long-running work (a server process, a rebuild's replay,
the bench's in-process writer), in one place."""

from __future__ import annotations

GC_THRESHOLDS = (50_000, 20, 100)
"""The collector's thresholds. The default (700 allocations) runs a young collection every
few events of a batch, each walking every object made since: measured on
``POST /v1/events/batch``, the server spent about a quarter of its CPU there, and a rebuild's
decoding about 30 %. Nearly everything a request or a page makes is freed by reference
counting; cycles still go, later."""
