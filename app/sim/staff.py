"""The people of the simulated network, administered (WEB.md §1): on a few days of the run
the admin enrols someone in TOTP, resets a forgotten password, corrects a name, takes on a
trainee who leaves again, and the service locks an account after failed sign-ins. Each is
the account event a real network records; the simulated staff's credentials live outside
the log and are not simulated."""

from __future__ import annotations

from datetime import timedelta

from app.log.record import format_time
from app.sim.state import ADMIN, OPERATOR, SimState, staff_id


def administer(s: SimState) -> None:
    """On the days a quarter, a half and three quarters into the run, one step each."""
    days = s.config.days
    marks = {max(1, days // 4): "first", max(2, days // 2): "second",
             max(3, 3 * days // 4): "third"}
    which = marks.get(s.day)
    staff = [a for a in s.staff if a.user_id is not None and a.site_id is not None]
    if which is None or not staff:
        return
    person = staff[s.day % len(staff)]
    user_id = str(person.user_id)
    if which == "first":
        s.emit("AccountTotpEnrolled", {"user_id": user_id}, ADMIN, path="staff: TOTP enrolled")
        s.emit("AccountChanged", {"user_id": user_id, "name": f"{person.role} lead of "
                                  f"{person.site_id}", "role": person.role,
                                  "site_id": person.site_id}, ADMIN,
               path="staff: account changed")
    elif which == "second":
        until = s.clock.tick() + timedelta(minutes=15)
        s.emit("AccountLocked", {"user_id": user_id, "failures": 5,
                                 "until": format_time(until)}, OPERATOR,
               path="staff: locked after failed sign-ins")
        s.emit("AccountPasswordReset", {"user_id": user_id}, ADMIN,
               path="staff: password reset")
    else:
        trainee = staff_id("trainee", str(person.site_id))
        s.emit("AccountCreated", {"user_id": trainee, "name": f"Trainee at {person.site_id}",
                                  "role": person.role, "site_id": person.site_id}, ADMIN,
               path="staff: trainee taken on")
        s.emit("AccountDisabled", {"user_id": trainee, "reason": "training ended"}, ADMIN,
               path="staff: account disabled")
