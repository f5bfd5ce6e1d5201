"""The verification worker's JSON lines (``app.store.verify_worker``): a segment comes back
whole, and a worker's failure comes back as the exception the sequential pass would raise,
whatever else the line holds."""

from __future__ import annotations

import orjson
import pytest

from app.log.verify import Segment
from app.store.verify_worker import dump, load


def test_a_segment_comes_back_as_it_went() -> None:
    segment = Segment(10, 20, bytes(range(32)), True, end=15, chain=b"\x01" * 32,
                      nodes=[b"\x02" * 32, b"\x03" * 32],
                      bad=(16, "record bytes do not match leaf hash"), seen=10)
    assert load(dump(segment)) == segment
    assert load(dump(Segment(1, 5, None, False))) == Segment(1, 5, None, False)


@pytest.mark.parametrize(("unavailable", "raised"), [(True, ConnectionError),
                                                     (False, RuntimeError)])
def test_a_failure_is_raised_whatever_the_key_order(unavailable: bool,
                                                    raised: type[Exception]) -> None:
    for fields in ({"error": "verification worker: boom", "unavailable": unavailable},
                   {"unavailable": unavailable, "error": "verification worker: boom"}):
        with pytest.raises(raised, match="boom"):
            load(orjson.dumps(fields) + b"\n")


def test_a_fault_that_names_an_error_is_still_a_segment() -> None:
    segment = Segment(1, 2, None, False, bad=(1, '{"error": in the record'))
    assert load(dump(segment)).bad == (1, '{"error": in the record')
