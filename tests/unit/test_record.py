"""Canonical record bytes and timestamps: one spelling per instant, no floats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.log.record import canonical_json, format_time, parse_time


@given(st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=3)),
                                               timezone(timedelta(hours=-7, minutes=-30))])))
def test_one_spelling_per_instant(moment):
    text = format_time(moment)
    assert text == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert parse_time(text) == moment


def test_naive_times_and_floats_are_refused():
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        canonical_json({"volume_ml": 450.0})
    assert canonical_json({"b": 1, "a": {"d": "é", "c": [True, None]}}) == (
        '{"a":{"c":[true,null],"d":"é"},"b":1}'.encode())


def test_records_spell_each_instant_even_when_the_last_one_is_remembered():
    from app.log.record import build_record

    def times(occurred: datetime, recorded: datetime) -> tuple[str, str]:
        record = orjson.loads(build_record(
            position=1, event_id="e", stream="s", stream_version=1, type="T",
            schema_version=1, data={}, occurred_at=occurred, recorded_at=recorded,
            actor={"key_id": "k", "role": "admin", "site_id": None}))
        return record["occurred_at"], record["recorded_at"]

    now = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    later = now + timedelta(microseconds=1)
    assert times(now, now) == times(now, now) == (format_time(now), format_time(now))
    assert times(later, now) == (format_time(later), format_time(now))
    assert times(now, later) == (format_time(now), format_time(later))
    elsewhere = now.astimezone(timezone(timedelta(hours=3)))
    assert times(elsewhere, elsewhere) == (format_time(now), format_time(now))
