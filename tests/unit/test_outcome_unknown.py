"""A commit the writer lost is a 503 ``outcome-unknown`` naming the event id to retry with;
a failover (no primary found, a node turned read-only) is "unavailable", never a 500."""

from __future__ import annotations

import uuid

import asyncpg

from app.api.problems import problem, render_domain_error
from app.api.refusals import outcome_unknown
from app.errors import OutcomeUnknown, Unavailable
from app.store.errors import CommitOutcomeUnknown, StoreUnavailable, is_unavailable


def test_a_lost_commit_is_unavailable_with_its_own_rule():
    err = CommitOutcomeUnknown()
    assert isinstance(err, StoreUnavailable) and isinstance(err, OutcomeUnknown)
    event_id = uuid.uuid4()
    shown = outcome_unknown(event_id, err)
    body = problem(shown, "/v1/events")
    assert body["status"] == 503
    assert body["rule"] == "outcome-unknown"
    assert body["type"].endswith("/outcome-unknown")
    assert (body["outcome"], body["event_id"]) == ("unknown", str(event_id))
    assert "retry with the same event_id" in body["detail"]
    assert render_domain_error(shown, "/v1/events").headers["retry-after"]
    # Each batch item gets its own event id, from the one error the batch failed with.
    other = problem(outcome_unknown(uuid.uuid4(), err))
    assert other["event_id"] != body["event_id"]


def test_a_write_that_never_reached_the_commit_still_says_retry():
    body = problem(outcome_unknown("e-1", StoreUnavailable("unreachable")))
    assert (body["rule"], body["outcome"], body["status"]) == ("unavailable", "unknown", 503)
    assert not isinstance(outcome_unknown("e-1", Unavailable("x")), OutcomeUnknown)


def test_failover_errors_mean_unavailable():
    assert is_unavailable(asyncpg.exceptions.TargetServerAttributeNotMatched("no primary"))
    assert is_unavailable(asyncpg.exceptions.ReadOnlySQLTransactionError("read-only"))
    assert is_unavailable(asyncpg.exceptions.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress"))
    assert not is_unavailable(asyncpg.exceptions.UniqueViolationError("a bug stays a bug"))
