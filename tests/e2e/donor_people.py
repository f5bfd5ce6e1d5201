"""Clearly fictional people for the donor registry tests, in English and Arabic."""

from __future__ import annotations

from typing import Any

PEOPLE: tuple[dict[str, Any], ...] = (
    {"national_id": "FICT-0001-AA", "name": "Testa Fictiva", "birth_date": "1990-05-01",
     "sex": "F", "phone": "+000 111 0001", "address": "1 Nowhere Lane, Testville",
     "language": "en"},
    {"national_id": "FICT 0002 BB", "name": "وهمي الاختبار الأول", "birth_date": "1984-11-23",
     "sex": "M", "phone": "+000 111 0002", "address": "شارع الخيال، مدينة الاختبار",
     "language": "ar"},
    {"national_id": "FICT-0003-CC", "name": "Exemplar Nominee", "birth_date": "1975-02-14",
     "sex": "M", "language": "en"},
)


def person(i: int, **changes: Any) -> dict[str, Any]:
    return PEOPLE[i] | changes
