"""``strict_json.parse`` skips its second, key-marking parse only when no object can repeat a
key: whatever the body, it returns what the marking parse alone would (same value, same
objects marked)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from app.api.strict_json import RepeatedKeys, _pairs, parse

KEYS = st.sampled_from(["a", "b", "a:", ":", "x:y", "c"])
SCALARS = st.one_of(st.integers(-5, 5), st.sampled_from(["", ":", "a:b", "::", "\\u", "é:"]))


def _marked(raw: bytes) -> Any:
    return json.loads(raw, object_pairs_hook=_pairs)


def _shape(value: Any) -> Any:
    """The value with each object's marking (its repeated key, or None) made visible."""
    if isinstance(value, dict):
        return ("obj", getattr(value, "repeated", None) if isinstance(value, RepeatedKeys)
                else None, [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return [_shape(v) for v in value]
    return value


def _text(value: Any, rng: st.DataObject) -> str:
    """JSON text for a tree of (key, value) pair lists: keys may repeat, and a colon in a
    key may be written as ``\\u003a``."""
    if isinstance(value, tuple):
        items = ", ".join(f"{_key(k, rng)}: {_text(v, rng)}" for k, v in value[1])
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v, rng) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _key(key: str, rng: st.DataObject) -> str:
    text = json.dumps(key, ensure_ascii=False)
    if ":" in key and rng.draw(st.booleans()):
        text = text.replace(":", "\\u003a")
    return text


TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(st.just("obj"), st.lists(st.tuples(KEYS, inner), max_size=4)),
    ),
    max_leaves=12,
)


@given(tree=TREES, rng=st.data())
def test_parse_marks_exactly_what_the_marking_parse_marks(tree: Any, rng: st.DataObject
                                                          ) -> None:
    raw = _text(tree, rng).encode()
    assert _shape(parse(raw, 10_000)) == _shape(_marked(raw))


def test_a_repeat_hidden_behind_an_escaped_colon_is_still_found() -> None:
    raw = b'{"a\\u003a": 1, "a:": 2}'
    value = parse(raw, 100)
    assert isinstance(value, RepeatedKeys) and value.repeated == "a:"


def test_a_repeat_deep_in_a_batch_is_found() -> None:
    events = [{"type": "T", "data": {"k": f"v:{i}"}} for i in range(50)]
    raw = orjson.dumps({"events": events}).replace(b'{"k"', b'{"k":"dup","k"', 1)
    item = parse(raw, 100_000)["events"][0]["data"]
    assert isinstance(item, RepeatedKeys) and item.repeated == "k"


def test_a_repeat_nested_deeper_than_orjson_writes_is_found() -> None:
    raw = b'{"a": ' * 300 + b'{"k": 1, "k": 2}' + b"}" * 300
    value = parse(raw, 100_000)
    for _ in range(300):
        value = value["a"]
    assert isinstance(value, RepeatedKeys) and value.repeated == "k"
