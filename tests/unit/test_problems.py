"""Errors carry a category, the edge alone knows HTTP: one status map, one problem renderer,
one translation of pydantic's errors, and driver failures translated at the pool boundary."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import orjson
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from app import errors
from app.api.deps import ConDep, get_pool
from app.api.metrics import Metrics
from app.api.middleware import RequestContext
from app.api.problems import (
    PROBLEM_JSON,
    STATUS,
    http_status,
    install,
    problem,
    problem_body,
    render_domain_error,
)
from app.errors import Category, DomainError, InvalidEventData, InvalidInput
from app.store.errors import StoreUnavailable, map_driver_errors

ALL_ERRORS = [c for _, c in inspect.getmembers(errors, inspect.isclass)
              if issubclass(c, DomainError)]


def test_every_category_has_exactly_one_status() -> None:
    assert set(STATUS) == set(Category)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: c.__name__)
def test_every_error_has_a_category_and_no_http_status(cls: type[DomainError]) -> None:
    assert isinstance(cls.category, Category)
    assert not hasattr(cls, "status") and not hasattr(cls, "to_problem")
    assert 400 <= http_status(cls("x")) < 600


@pytest.mark.parametrize(("cls", "status"), [
    (errors.InvalidInput, 422), (errors.MalformedRequest, 400), (errors.PayloadTooLarge, 413),
    (errors.UnitNotFound, 404), (errors.Unauthenticated, 401), (errors.SiteScopeViolation, 403),
    (errors.IdempotencyConflict, 409), (errors.UnitExpired, 409), (errors.Unavailable, 503),
    (StoreUnavailable, 503), (errors.FloatNotAllowed, 422), (errors.NoCheckpoint, 404),
])
def test_the_status_of_each_kind_of_refusal(cls: type[DomainError], status: int) -> None:
    assert http_status(cls("x")) == status


def test_a_problem_names_its_rule_field_extras_and_instance() -> None:
    err = errors.DinCheckCharacter("data.din: wrong", field="data.din", expected="A")
    assert problem(err, "/v1/events") == {
        "type": "https://bloodtrace.dev/problems/din-check-character",
        "title": err.title, "status": 422, "detail": "data.din: wrong",
        "rule": "din-check-character", "field": "data.din", "expected": "A",
        "instance": "/v1/events",
    }
    assert "field" not in problem_body(rule="r", title="t", status=400, detail="d")


def test_unavailable_and_unauthenticated_answers_carry_their_headers() -> None:
    down = render_domain_error(StoreUnavailable("down"), "/v1/stock")
    assert (down.status_code, down.headers["retry-after"], down.media_type) == (
        503, "2", PROBLEM_JSON)
    assert orjson.loads(down.body)["rule"] == "unavailable"
    who = render_domain_error(errors.Unauthenticated("key?"), "/v1/stock")
    assert (who.status_code, who.headers["www-authenticate"]) == (401, "Bearer")


class _Donor(BaseModel):
    donor_id: str
    visits: list[int]


def _details(raw: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as caught:
        _Donor.model_validate(raw)
    return [dict(e) for e in caught.value.errors()]


def test_pydantic_errors_become_one_refusal_naming_the_first_field() -> None:
    details = _details({"donor_id": "D", "visits": [1, "x"]})
    plain = InvalidInput.from_validation(details)
    assert (type(plain), plain.field) == (InvalidInput, "visits.1")
    assert plain.detail.startswith("visits.1: ")
    data = InvalidEventData.from_validation(details, prefix=["data"])
    assert (type(data), data.field) == (InvalidEventData, "data.visits.1")
    query = InvalidInput.from_validation([{"loc": ("query", "limit"), "msg": "too big"}],
                                         hide=("query",), errors=[])
    assert (query.field, query.detail, query.extra) == ("limit", "limit: too big", {"errors": []})
    bare = InvalidInput.from_validation([{"loc": ("body",), "msg": "missing"}], hide=("body",))
    assert (bare.field, bare.detail) == (None, "missing")


def test_driver_failures_become_store_unavailable_with_and_without_await() -> None:
    with pytest.raises(StoreUnavailable) as caught, map_driver_errors():
        raise ConnectionRefusedError("no server")
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    with pytest.raises(StoreUnavailable), map_driver_errors():
        raise TimeoutError


async def test_async_use_translates_and_lets_other_errors_through() -> None:
    with pytest.raises(StoreUnavailable):
        async with map_driver_errors():
            raise ConnectionResetError
    with pytest.raises(KeyError):
        async with map_driver_errors():
            raise KeyError("a bug stays a bug")
    with pytest.raises(errors.UnitNotFound):
        async with map_driver_errors():
            raise errors.UnitNotFound("not a driver failure")


class _Pool:
    """Hands out a placeholder connection: the routes below fail before they would use it."""

    @asynccontextmanager
    async def acquire(self, timeout: float | None = None) -> AsyncIterator[object]:
        yield object()


def _edge() -> FastAPI:
    """The problem handlers and the request middleware around routes that take a ConDep."""
    app = FastAPI()
    app.state.metrics = Metrics()
    install(app)
    app.dependency_overrides[get_pool] = _Pool

    @app.get("/lost")
    async def lost(con: ConDep) -> None:
        raise asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")

    @app.get("/bug")
    async def bug(con: ConDep) -> None:
        raise KeyError("no such column")

    app.add_middleware(RequestContext, metrics=app.state.metrics)
    return app


async def test_a_connection_lost_inside_a_route_is_a_503_and_a_bug_a_500() -> None:
    transport = httpx.ASGITransport(app=_edge())
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as http:
        lost = await http.get("/lost")
        bug = await http.get("/bug")
    assert (lost.status_code, lost.json()["rule"], lost.headers["retry-after"]) == (
        503, "unavailable", "2")
    assert (bug.status_code, bug.json()["rule"]) == (500, "internal-error")
    assert bug.headers["content-type"].startswith(PROBLEM_JSON)
