"""The two kinds of verification worker give the same verdicts: forked children (this process
runs no other thread) and ``python -m app.store.verify_worker`` processes (it does, as a server
or the CLI's progress bar would)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.log.offline_parallel import process_context
from tests.integration.test_verify_parallel import _both, _tampered, filled  # noqa: F401


@pytest.fixture
def threaded() -> Iterator[None]:
    """Another thread runs, so multiprocessing may not fork: the workers are started."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert process_context().get_start_method() != "fork"
        yield
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("kind", ["flip", "delete", "swap", "rehash", "cut_tail", "chain"])
@pytest.mark.parametrize("k", [1, 13, 25, 48])
def test_started_workers_give_the_sequential_verdict(filled, threaded, kind, k):  # noqa: F811
    sequential, parallel = _tampered(filled, kind, k, 49 - k, 2)
    assert parallel == sequential
    assert not sequential.ok


def test_an_intact_log_with_started_workers(filled, threaded):  # noqa: F811
    import asyncio

    sequential, parallel = asyncio.run(_both(filled, 3))
    assert sequential == parallel
    assert sequential.ok
