"""``/``: the links of the person's role and a scan box."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.web.shell import PersonDep, render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request, person: PersonDep) -> Response:
    return await render(request, "home.html")
