"""Clearly fictional people for the simulated donors' identities (issue 19): names in Arabic
and English that no one bears ("Demo Donor", "متبرع تجريبي"), national ids that say FICT,
phone numbers under the unassigned +000 prefix. Drawn from a generator of their own, so a
run with identities takes every other decision exactly as a run without them."""

from __future__ import annotations

import random
from datetime import date
from typing import Any, Final

SURNAMES_EN: Final = ("Example", "Sample", "Placeholder", "Fictive", "Testcase", "Mockup")
SURNAMES_AR: Final = ("مثال", "عينة", "وهمي", "افتراضي", "تجريبي", "نموذج")


class People:
    """The n-th fictional person of a run, the same for the same seed."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed ^ 0x1DE171)
        self._serial = 0

    def next(self, sex: str | None, birth_year: int, governorate: str) -> dict[str, Any]:
        self._serial += 1
        n, rng = self._serial, self._rng
        arabic = rng.random() < 0.7
        surname = rng.choice(SURNAMES_AR if arabic else SURNAMES_EN)
        person: dict[str, Any] = {
            "national_id": f"FICT-{n:08d}",
            "name": f"متبرع تجريبي {n} {surname}" if arabic else f"Demo Donor {n} {surname}",
            "birth_date": date(birth_year, rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
            "sex": sex or "X",
            "phone": f"+000 {rng.randint(100, 999)} {n:06d}",
            "address": (f"شارع الخيال {n}، {governorate}" if arabic
                        else f"{n} Fiction Street, {governorate}"),
            "language": "ar" if arabic else "en",
        }
        return person
