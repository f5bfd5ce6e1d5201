"""The donor registry (issue 19): register a person through the identity vault, read and
search identities (every read recorded as ``DonorIdentityViewed``), the recall and
notification lists, the retention report and the donor's own copy (GDPR Art. 15).

Identities are for collector and processing keys of a blood bank, and admins
(``app.vault.service.may_read_identities``); registration for the roles that record
``DonorRegistered``. The rules live in ``app.vault`` and ``app.events.recall``; this module
only reads requests and shapes answers.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.responses import Response

from app.api.body import parse_model, read_json
from app.api.deps import ActorDep, ConDep, RecorderDep, ServicesDep, SettingsDep
from app.api.openapi import json_body
from app.api.params import IDENT, PSEUDONYM
from app.api.responses import LIST_PROBLEMS, READ_PROBLEMS, WRITE_PROBLEMS, FastJSON, problems
from app.errors import (
    DonorNotFound,
    IdentityAccessDenied,
    InvalidInput,
    SiteScopeViolation,
    Unavailable,
)
from app.events import recall
from app.events.authz import ADMIN
from app.events.catalogue import default_catalogue
from app.events.messages import Actor
from app.events.registry import check_role
from app.store import read_donors
from app.vault import identity as rules
from app.vault.service import Identity, Vault

router = APIRouter(tags=["donors"])
IDENTITY_PROBLEMS = READ_PROBLEMS | problems(410)


async def get_vault(services: ServicesDep) -> Vault:
    if services.vault is None:
        raise Unavailable("the donor identity vault is not open in this process")
    return services.vault


VaultDep = Annotated[Vault, Depends(get_vault)]
DonorPath = Annotated[str, Path(pattern=PSEUDONYM, description="the donor's pseudonym")]
Purpose = Annotated[str, Query(min_length=1, max_length=500,
                               description="why the identity is read (recorded in the log)",
                               examples=["recall for donation"])]
SiteQuery = Annotated[str | None, Query(pattern=IDENT, examples=["BB-DAM-01"],
                                        description="default: the key's own site")]


class DonorIn(BaseModel):
    """A person to register. Nothing of it enters the log but the pseudonym, the sex, the
    birth year and a salted commitment to the whole."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "national_id": "00-FICT-0001", "name": "Fictional Donor One", "birth_date": "1990-05-01",
        "sex": "F", "phone": "+000 0000 0001", "language": "ar"}]})

    national_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    birth_date: date
    sex: Literal["F", "M", "X"]
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 ()-]{2,39}$")
    address: str | None = Field(default=None, max_length=500)
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$",
                                 description="a BCP 47 language tag")

    @field_validator("birth_date")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if not date(1900, 1, 1) <= value <= datetime.now(UTC).date():
            raise ValueError("birth_date must be between 1900 and today")
        return value


class DonorOut(BaseModel):
    donor_id: str
    existing: bool


class DonorMatches(BaseModel):
    donors: list[str]


@router.post("/v1/donors", status_code=201, response_model=DonorOut,
             responses=WRITE_PROBLEMS | {200: {"model": DonorOut,
                                               "description": "already registered"}},
             openapi_extra=json_body(DonorIn))
async def register_donor(request: Request, actor: RecorderDep, vault: VaultDep,
                         settings: SettingsDep) -> Response:
    """Register a person: 201 with a new pseudonym, or 200 with the pseudonym the person
    already has anywhere in the network (``HMAC-SHA256(pepper, normalised national id)``)."""
    check_role(actor, "DonorRegistered")
    person = parse_model(DonorIn, await read_json(request, settings))
    rules.normalise_national_id(person.national_id)
    rules.normalise_name(person.name)
    done = await vault.register(actor, Identity(**person.model_dump()))
    return FastJSON({"donor_id": done.donor_id, "existing": done.existing},
                    status_code=200 if done.existing else 201)


@router.get("/v1/donors/search", response_model=DonorMatches, responses=LIST_PROBLEMS)
async def search_donors(
    actor: ActorDep, vault: VaultDep,
    national_id: Annotated[str | None, Query(max_length=64)] = None,
    name: Annotated[str | None, Query(max_length=200)] = None,
    birth_date: Annotated[date | None, Query()] = None,
) -> Response:
    """The registered donors with this national id (any spelling), or with this name and
    birth date (through blind indexes: the vault holds neither in clear)."""
    if (national_id is None) == (name is None or birth_date is None) or (
            national_id is not None and (name is not None or birth_date is not None)):
        raise InvalidInput("give national_id, or name and birth_date", field="national_id")
    found = await vault.search(actor, national_id, name, birth_date)
    return FastJSON({"donors": found})


DUE_RESPONSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "The recall list as JSON, or with ?format=csv as CSV for an SMS gateway",
    "content": {"application/json": {"schema": {"type": "object"}},
                "text/csv": {"schema": {"type": "string"}}}}}


@router.get("/v1/donors/due", responses=LIST_PROBLEMS | DUE_RESPONSE)
async def due_donors(
    actor: ActorDep, vault: VaultDep, con: ConDep, site: SiteQuery = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> Response:
    """The recall list: donors of the site whose interval since their last donation has
    passed and who have no active deferral, with how to reach them (each identity read is
    recorded, purpose ``recall``). ``?format=csv`` for an SMS gateway."""
    await vault.require_reader(actor, con)
    site_id = _site_of(actor, site)
    now = datetime.now(UTC)
    donor_rules = default_catalogue().donors
    due = [(state, since) for state, _ in await read_donors.donors_of_site(con, site_id)
           if (since := recall.due_since(state, donor_rules, now)) is not None]
    where = await read_donors.last_sites(con, [s.donor_id for s, _ in due])
    people = await vault.read_many(actor, [s.donor_id for s, _ in due], "recall", con=con)
    items = [{"donor_id": s.donor_id, "eligible_since": since,
              "last_site_id": where.get(s.donor_id),
              "name": people[s.donor_id].get("name"), "phone": people[s.donor_id].get("phone"),
              "language": people[s.donor_id].get("language")}
             for s, since in due if s.donor_id in people]
    if format == "csv":
        return Response(_csv(items), media_type="text/csv; charset=utf-8")
    return FastJSON({"site_id": site_id, "as_of": now, "donors": items})


@router.get("/v1/donors/notifications", responses=LIST_PROBLEMS)
async def donor_notifications(actor: ActorDep, vault: VaultDep, con: ConDep,
                              site: SiteQuery = None) -> Response:
    """Donors to tell, webhook-shaped: a confirmed positive (an active permanent deferral for
    an infectious marker) or a lookback started from their donations."""
    await vault.require_reader(actor, con)
    site_id = _site_of(actor, site)
    now = datetime.now(UTC)
    states = {s.donor_id: s for s, _ in await read_donors.donors_of_site(con, site_id)}
    items: list[dict[str, Any]] = [
        {"event": "donor.confirmed_positive", "donor_id": donor_id, "marker": x.marker,
         "din": x.din, "since": x.since, "deferral_id": x.deferral_id}
        for donor_id, state in states.items() for x in recall.confirmed_positives(state, now)]
    items += [{"event": "donor.lookback", "donor_id": lb["donor_id"],
               "lookback_id": lb["lookback_id"], "marker": lb["marker"], "din": lb["din"],
               "since": lb["started_at"]}
              for lb in await read_donors.lookbacks_of(con, list(states))]
    people = await vault.read_many(actor, sorted({i["donor_id"] for i in items}),
                                   "donor notification", con=con)
    for item in items:
        person = people.get(item["donor_id"], {})
        item["contact"] = {k: person.get(k) for k in ("name", "phone", "language")}
    return FastJSON({"type": "bloodtrace.donor-notifications", "site_id": site_id,
                     "created_at": now, "notifications": items})


@router.get("/v1/donors/retention", responses=LIST_PROBLEMS)
async def retention_report(actor: ActorDep, con: ConDep, settings: SettingsDep) -> Response:
    """Donors whose identity is past retention (``donor_retention_years`` after the last
    donation): candidates for ``bloodtrace donors shred``. Admins only."""
    if actor.role != ADMIN:
        raise IdentityAccessDenied("the retention report is for admins")
    return FastJSON({"retention_years": settings.donor_retention_years,
                     "donors": await read_donors.past_retention(
                         con, settings.donor_retention_years, datetime.now(UTC))})


@router.get("/v1/donors/{donor_id}/identity", responses=IDENTITY_PROBLEMS)
async def read_identity(
    donor_id: DonorPath, actor: ActorDep, vault: VaultDep, purpose: Purpose,
) -> Response:
    """The donor's identity; the read is recorded first (``DonorIdentityViewed``)."""
    return FastJSON({"donor_id": donor_id} | await vault.read(actor, donor_id, purpose))


@router.get("/v1/donors/{donor_id}/report", responses=IDENTITY_PROBLEMS)
async def subject_access_report(donor_id: DonorPath, actor: ActorDep, vault: VaultDep,
                                con: ConDep) -> Response:
    """The donor's own copy (GDPR Art. 15): identity, donations, deferrals and test
    outcomes. The identity read is recorded (purpose ``subject access request``)."""
    await vault.require_reader(actor, con)
    state = await read_donors.donor(con, donor_id)
    if state is None:
        raise DonorNotFound(f"donor {donor_id} is not registered", field="donor_id")
    person, commitment = await vault.read_checked(
        actor, donor_id, "subject access request (GDPR Art. 15)", con=con)
    given = await read_donors.donations(con, donor_id)
    return FastJSON({
        "donor_id": donor_id, "identity": person, "commitment": commitment,
        "donations": given,
        "deferrals": [x.model_dump(mode="json") for x in state.deferrals],
        "test_outcomes": await read_donors.test_results(con, [g["din"] for g in given]),
        "generated_at": datetime.now(UTC)})


def _site_of(actor: Actor, site: str | None) -> str | None:
    """The site a list is for: the key's own (an admin names any, or none for all)."""
    if actor.role == ADMIN:
        return site
    if site is not None and site != actor.site_id:
        raise SiteScopeViolation(f"this key acts for site {actor.site_id!r}, not {site!r}",
                                 field="site")
    return actor.site_id


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(column: str, value: Any) -> str:
    text = "" if value is None else (value.isoformat() if isinstance(value, datetime)
                                     else str(value))
    # A spreadsheet would run a cell starting like a formula (CSV injection); a phone
    # number is checked on input to hold only digits, spaces, ( ) - and a leading +.
    risky = text.startswith(_FORMULA_START) and column != "phone"
    return "'" + text if risky else text


def _csv(items: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    columns = ["donor_id", "name", "phone", "language", "eligible_since", "last_site_id"]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for item in items:
        writer.writerow([_cell(c, item.get(c)) for c in columns])
    return out.getvalue()
