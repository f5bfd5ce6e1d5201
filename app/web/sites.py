"""Site names for people, in their language: the log registers a site's name once
(``SiteRegistered``); the simulated network, like a bilingual registry, writes it as
``"English / العربية"``. The names are read through the store and kept a minute."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from app.api.deps import connection
from app.bootstrap import Services
from app.store.read_sites import registered_sites

REFRESH_SECONDS = 60.0
_ARABIC = range(0x0600, 0x0700)


def bilingual(name: str) -> tuple[str, str]:
    """(English, Arabic) of a registered name. ``"A / ب"`` splits at the last ``" / "``
    whose right side is Arabic; a name in one language serves both."""
    left, sep, right = name.rpartition(" / ")
    if sep and any(ord(ch) in _ARABIC for ch in right):
        return left.strip(), right.strip()
    return name, name


@dataclass(frozen=True, slots=True)
class SiteNames:
    """site id → (English, Arabic) name."""

    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def name(self, site_id: str | None, lang: str) -> str:
        """The site's name in ``lang``; its id when the log has no name for it."""
        if site_id is None:
            return ""
        found = self.names.get(site_id)
        if found is None:
            return site_id
        return found[1] if lang == "ar" else found[0]


async def site_names(services: Services) -> SiteNames:
    """The process's site names, read again when older than ``REFRESH_SECONDS``."""
    cached: tuple[float, SiteNames] | None = services.extras.get("web_site_names")
    now = time.monotonic()
    if cached is not None and now - cached[0] < REFRESH_SECONDS:
        return cached[1]
    async with connection(services.read_pool or services.pool) as con:
        rows: list[dict[str, Any]] = await registered_sites(con)
    names = SiteNames({r["site_id"]: bilingual(r["name"] or r["site_id"]) for r in rows})
    services.extras["web_site_names"] = (now, names)
    return names
