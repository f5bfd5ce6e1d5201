"""The one DomainError tree.

Every refusal the service makes is an instance of a class below. Each class names its rule
(a stable slug that becomes the RFC 9457 problem ``type`` URI) and its HTTP status. The HTTP
edge renders them in exactly one place (``app/api/problems.py``); nothing else builds error
responses.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://bloodtrace.dev/problems/"


class DomainError(Exception):
    """Base of every refusal. Subclasses set ``rule``, ``status`` and ``title``."""

    rule: ClassVar[str] = "domain-error"
    status: ClassVar[int] = 409
    title: ClassVar[str] = "The request was refused"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    @property
    def type_uri(self) -> str:
        return PROBLEM_BASE + self.rule

    def to_problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "rule": self.rule,
        }
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return body


# --- request shape -------------------------------------------------------------------------


class InvalidInput(DomainError):
    """The request is well-formed JSON but a field is missing or has the wrong form."""

    rule = "invalid-input"
    status = 422
    title = "Invalid input"


class MalformedRequest(DomainError):
    rule = "malformed-request"
    status = 400
    title = "Malformed request"


class FloatNotAllowed(InvalidInput):
    rule = "float-not-allowed"
    title = "Floating-point numbers are not allowed; use integers or strings"


class PayloadTooLarge(DomainError):
    rule = "payload-too-large"
    status = 413
    title = "Request body too large"


class UnknownEventType(InvalidInput):
    rule = "unknown-event-type"
    title = "Unknown event type"


class NotFound(DomainError):
    rule = "not-found"
    status = 404
    title = "Not found"


# --- auth ----------------------------------------------------------------------------------


class Unauthenticated(DomainError):
    rule = "unauthenticated"
    status = 401
    title = "A valid API key is required"


class Forbidden(DomainError):
    rule = "forbidden"
    status = 403
    title = "This key may not do that"


class RoleNotAllowed(Forbidden):
    rule = "role-not-allowed"
    title = "The key's role may not record this event type"


class SiteScopeViolation(Forbidden):
    rule = "site-scope"
    title = "A key acts only for its own site"


# --- the log -------------------------------------------------------------------------------


class Conflict(DomainError):
    rule = "conflict"
    status = 409
    title = "Conflict"


class IdempotencyConflict(Conflict):
    rule = "event-id-reused"
    title = "This event_id was already used with different content"


class WrongExpectedVersion(Conflict):
    rule = "wrong-expected-version"
    title = "The stream is not at the expected version"


class Unavailable(DomainError):
    rule = "unavailable"
    status = 503
    title = "The service cannot reach its database"


# --- domain rules (app/events) ---------------------------------------------------------------
# The life-cycle rules subclass RuleViolation (409, the state forbids it) or InvalidInput
# (422, the value is wrong in itself). Each names its own rule slug.


class RuleViolation(DomainError):
    rule = "rule-violation"
    status = 409
    title = "A life-cycle rule forbids this"
