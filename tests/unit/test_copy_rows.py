"""The binary COPY decoder of log rows: whole rows whatever the chunking, NULLs and odd
lengths read field by field, a stream cut inside a row refused."""

from __future__ import annotations

import struct

import pytest

from app.store.copy_rows import SIGNATURE, CopyFormatError, LogRowDecoder


def _field(value: bytes | None) -> bytes:
    return struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value


def _stream(rows: list[tuple[int, bytes | None, bytes | None, bytes | None]]) -> bytes:
    out = SIGNATURE + struct.pack(">ii", 0, 0)
    for position, *rest in rows:
        out += struct.pack(">h", 4) + _field(struct.pack(">q", position))
        out += b"".join(_field(v) for v in rest)
    return out + struct.pack(">h", -1)


ROWS = [(1, b'{"a":1}', bytes(32), b"\x01" * 32), (2, b"", b"\x02" * 32, b"\x03" * 32),
        (3, None, b"short", None), (4, b"x" * 300, b"\x04" * 32, b"\x05" * 32)]
EXPECTED = [(p, r or b"", leaf or b"", chain or b"") for p, r, leaf, chain in ROWS]


@pytest.mark.parametrize("size", [1, 2, 7, 18, 64, 1 << 20])
def test_rows_come_whole_whatever_the_chunks(size):
    data = _stream(ROWS)
    decoder = LogRowDecoder()
    rows = []
    for at in range(0, len(data), size):
        rows += decoder.feed(data[at:at + size])
    decoder.finish()
    assert [tuple(bytes(v) if isinstance(v, bytes | bytearray) else v for v in row)
            for row in rows] == EXPECTED


def test_a_stream_cut_inside_a_row_is_refused():
    decoder = LogRowDecoder()
    decoder.feed(_stream(ROWS)[:-40])
    with pytest.raises(CopyFormatError):
        decoder.finish()


def test_not_a_binary_copy():
    with pytest.raises(CopyFormatError):
        LogRowDecoder().feed(b"position\trecord\n" + bytes(40))
