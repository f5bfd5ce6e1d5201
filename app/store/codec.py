"""Feed entries: what the change feed, a unit's history and SSE send, read off the record.

Events themselves are decoded in ``app.store.mapper``.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.log.encoding import b64

FEED_COLUMNS = "position, record, leaf_hash, chain_hash"


def feed_entry(row: Any) -> dict[str, Any]:
    """A feed entry (``/v1/events``, history, SSE): the record's fields plus its hashes.

    Built from the stored bytes, so the entry says exactly what was hashed.
    """
    entry: dict[str, Any] = orjson.loads(row["record"])
    entry["leaf_hash"] = b64(row["leaf_hash"])
    entry["chain_hash"] = b64(row["chain_hash"])
    return entry
