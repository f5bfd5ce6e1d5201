"""Rows of the log read with ``COPY … TO STDOUT (FORMAT binary)``, decoded here.

Verification and replay read the whole log in position order. asyncpg's row-by-row fetch
builds a Record per row and decodes every column through its codecs, which costs more than
hashing the record; a binary COPY streams the same columns as length-prefixed bytes, and the
few fixed-shape columns these readers need are cut out of the stream with one ``struct`` call
per row. The format is PostgreSQL's (``COPY``, "Binary Format"): an 11-byte signature, flags,
a header extension, then per tuple an int16 field count and per field an int32 length (-1 for
NULL) and that many bytes, and an int16 -1 trailer.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncGenerator

from app.store.conn import Conn

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = struct.Struct(">11sii")
_LEAD = struct.Struct(">hiqi")  # field count, 8, position, record length
_HASHES = struct.Struct(">i32si32s")  # 32, leaf hash, 32, chain hash
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")
_INT64 = struct.Struct(">q")
LOG_COLUMNS = "position, record, leaf_hash, chain_hash"

LogRow = tuple[int, bytes, bytes, bytes]


class CopyFormatError(ValueError):
    """The COPY stream is not in the shape asked for."""


class LogRowDecoder:
    """Incremental decoder of a binary COPY of ``(position bigint, record bytea,
    leaf_hash bytea, chain_hash bytea)``: feed it chunks as they arrive, get whole rows."""

    def __init__(self) -> None:
        self._rest = b""
        self._started = False
        self.done = False

    def feed(self, chunk: bytes) -> list[LogRow]:
        buf = self._rest + chunk if self._rest else chunk
        at = 0
        if not self._started:
            if len(buf) < _HEADER.size:
                self._rest = buf
                return []
            signature, _, extension = _HEADER.unpack_from(buf)
            if signature != SIGNATURE:
                raise CopyFormatError("not a binary COPY stream")
            at = _HEADER.size + extension
            self._started = True
        rows: list[LogRow] = []
        append, lead, hashes, size = rows.append, _LEAD.unpack_from, _HASHES.unpack_from, len(buf)
        while at + 18 <= size:
            count, eight, position, length = lead(buf, at)
            if count == -1:
                self.done = True
                at += 2
                break
            tail = at + 18 + length
            if count == 4 and eight == 8 and length >= 0 and tail + 72 <= size:
                leaf_len, leaf, chain_len, chain = hashes(buf, tail)
                if leaf_len == 32 and chain_len == 32:
                    append((position, buf[at + 18:tail], leaf, chain))
                    at = tail + 72
                    continue
            row, used = self._slow(buf, at)
            if row is None:
                break
            append(row)
            at = used
        if not self.done and at + 2 <= size and _INT16.unpack_from(buf, at)[0] == -1:
            self.done = True
            at += 2
        self._rest = buf[at:]
        return rows

    @staticmethod
    def _slow(buf: bytes, at: int) -> tuple[LogRow | None, int]:
        """A tuple of any shape (NULLs, odd lengths): each field on its own. NULL bytes come
        back empty, so the verifier reports the row rather than the reader failing."""
        if at + 2 > len(buf):
            return None, at
        (count,) = _INT16.unpack_from(buf, at)
        if count != 4:
            raise CopyFormatError(f"a row of {count} fields, not 4")
        at += 2
        fields: list[bytes] = []
        for _ in range(4):
            if at + 4 > len(buf):
                return None, at
            (length,) = _INT32.unpack_from(buf, at)
            at += 4
            if length < 0:
                fields.append(b"")
                continue
            if at + length > len(buf):
                return None, at
            fields.append(buf[at:at + length])
            at += length
        if len(fields[0]) != 8:
            raise CopyFormatError("position is not a bigint")
        return (_INT64.unpack(fields[0])[0], fields[1], fields[2], fields[3]), at

    def finish(self) -> None:
        if not self.done or self._rest:
            raise CopyFormatError("the COPY stream ended inside a row")


async def copy_log_pages(con: Conn, first: int, last: int, page: int = 20_000,
                         statement: int = 100_000) -> AsyncGenerator[list[LogRow], None]:
    """Rows of the log with ``first <= position <= last`` in position order, in pages of about
    ``page`` rows, by binary COPY: one statement per ``statement`` positions, so that each
    stays well inside the pool's command timeout. The COPY runs while the caller works on a
    page; it waits (the socket fills, the server pauses) once two pages are ahead."""
    queue: asyncio.Queue[list[LogRow] | None] = asyncio.Queue(maxsize=2)
    pending: list[LogRow] = []
    decoder = LogRowDecoder()

    async def sink(chunk: bytes) -> None:
        nonlocal pending
        pending += decoder.feed(chunk)
        if len(pending) >= page:
            await queue.put(pending)
            pending = []

    async def run() -> None:
        nonlocal pending, decoder
        try:
            top = await con.fetchval("SELECT coalesce(max(position), 0) FROM events")
            for low in range(first, min(last, top) + 1, statement):
                decoder = LogRowDecoder()
                await con.copy_from_query(
                    f"SELECT {LOG_COLUMNS} FROM events WHERE position >= $1 AND position <= $2 "
                    "ORDER BY position", low, min(last, low + statement - 1),
                    output=sink, format="binary")
                decoder.finish()
            if pending:
                await queue.put(pending)
                pending = []
        finally:
            await queue.put(None)

    task = asyncio.create_task(run())
    try:
        while (rows := await queue.get()) is not None:
            yield rows
        await task  # raises what the COPY raised
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
