"""Request bodies as strict JSON, refused as early and as cheaply as possible.

In order, each step bounding the cost of the next:
1. the content type must be JSON (``application/json`` or ``application/*+json``): 415;
2. the body must arrive within the read deadline (408) and within the size limit (413);
3. a count of the separators in the raw bytes bounds the number of JSON elements: a body of
   two million integers is refused (413) in a few milliseconds, before anything parses it;
4. orjson parses it (400 when it is not strict JSON: NaN, invalid UTF-8, lone surrogates);
5. objects that repeat a key, which orjson silently resolves to the last value, are found
   and marked by a second pass of the standard parser; that pass runs only when the body may
   hold one: orjson writes the parsed value back out (with every key once), and when the body
   has no ``\\u`` escape (the only way to write a colon that is not one), it repeats a key
   exactly when it has more colons than that output (every colon outside strings is a
   key's, and the strings are unchanged);
6. ``check_value`` walks one value (a body, or one item of a batch, so a bad item is refused
   alone): no floating-point number, no U+0000 (PostgreSQL text cannot hold it), no
   repeated key and no nesting deeper than ``MAX_DEPTH``. The walk is iterative, so depth
   can never exhaust the stack, and it is bounded by step 3.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import orjson
from fastapi import Request
from starlette.exceptions import HTTPException

from app.errors import FloatNotAllowed, InvalidInput, MalformedRequest, PayloadTooLarge

MAX_DEPTH = 32
"""Deepest nesting a value may have: an event's data needs five levels."""
_PARSER_DEPTH = 1100
"""orjson refuses 1024 levels; the standard parser recurses once per level below that."""


class RepeatedKeys(dict[str, Any]):
    """An object whose text gave a key more than once (``repeated`` names the first)."""

    repeated: str = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) == len(pairs):
        return found
    marked = RepeatedKeys(found)
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            marked.repeated = key
            break
        seen.add(key)
    return marked


def require_json_content(request: Request) -> None:
    """415 unless the body is declared as JSON (in UTF-8, the only encoding JSON has)."""
    declared = request.headers.get("content-type", "")
    media, _, params = declared.partition(";")
    media = media.strip().lower()
    kind, _, subtype = media.partition("/")
    charset = params.strip().lower().removeprefix("charset=").strip('"') if params else "utf-8"
    if not (kind == "application" and (subtype == "json" or subtype.endswith("+json"))
            and charset in ("utf-8", "utf8")):
        raise HTTPException(415, "the body must be application/json (UTF-8)")


async def read_body(request: Request, max_bytes: int, deadline_s: float) -> bytes:
    """The raw body: 413 past ``max_bytes``, 408 when it takes longer than ``deadline_s``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLarge(f"body of {declared} bytes exceeds the limit of {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline_s):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(f"body exceeds the limit of {max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        raise HTTPException(408, f"the body did not arrive within {deadline_s:g} s") from None
    return b"".join(chunks)


def parse(raw: bytes, max_elements: int) -> Any:
    """The parsed body, objects that repeat a key marked as ``RepeatedKeys``."""
    # Every element after the first of a container follows a comma, and every container
    # opens with a bracket: this bounds the elements (commas inside strings only add).
    bound = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if bound > max_elements:
        raise PayloadTooLarge(f"the body holds more than {max_elements} JSON elements")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise MalformedRequest(f"body is not valid JSON: {err}") from None
    if not isinstance(value, dict | list) or not _may_repeat_keys(raw, value):
        return value
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + _PARSER_DEPTH)
    try:
        return json.loads(raw, object_pairs_hook=_pairs)
    finally:
        sys.setrecursionlimit(limit)


def _may_repeat_keys(raw: bytes, value: dict[str, Any] | list[Any]) -> bool:
    """False only when no object in ``raw`` (parsed as ``value``) repeats a key."""
    if b"\\u" in raw:
        return True
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255 levels)
        return True
    return raw.count(b":") != written.count(b":")


def check_value(value: Any, path: str = "") -> None:
    """Refuse, naming where, a float, a U+0000, a repeated key or a value nested deeper than
    ``MAX_DEPTH`` anywhere in ``value`` (whose own place is ``path``)."""
    todo: list[tuple[Any, str, int]] = [(value, path, 0)]
    while todo:
        item, where, depth = todo.pop()
        if isinstance(item, float):
            raise FloatNotAllowed(f"{where or 'value'} is a floating-point number",
                                  field=where or None)
        if isinstance(item, str):
            if "\x00" in item:
                raise InvalidInput(f"{where or 'value'} contains the character U+0000",
                                   field=where or None)
            continue
        if not isinstance(item, dict | list):
            continue
        if depth >= MAX_DEPTH:
            raise InvalidInput(f"{where or 'the body'} is nested more than {MAX_DEPTH} deep",
                               field=where or None)
        if isinstance(item, RepeatedKeys):
            name = f"{where}.{item.repeated}" if where else item.repeated
            raise InvalidInput(f"{name} is given more than once", field=name)
        if isinstance(item, list):
            todo.extend((item[i], f"{where}[{i}]", depth + 1) for i in reversed(range(len(item))))
            continue
        for key in reversed(list(item)):
            if "\x00" in key:
                raise InvalidInput(f"a key of {where or 'the body'} contains U+0000",
                                   field=where or None)
            todo.append((item[key], f"{where}.{key}" if where else key, depth + 1))
