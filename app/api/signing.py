"""Electronic signatures at the HTTP edge: the password (and TOTP) given with a step are
checked against the signed-in person's account, and only then does the command carry a
``Signature`` (who, the meaning, when). Whether the step needed one is the domain's call
(``app.events.signatures``)."""

from __future__ import annotations

from dataclasses import replace

from app.api.body import SignatureIn
from app.events.messages import Actor, Command
from app.people.service import People


async def sign(people: People, actor: Actor, cmd: Command,
               signature: SignatureIn | None) -> Command:
    """``cmd`` with the person's verified signature, or unchanged when none was sent; a
    wrong password is a ``signature-invalid`` refusal and counts towards the lock."""
    if signature is None:
        return cmd
    made = await people.sign(actor, signature.password, signature.totp, signature.meaning)
    return replace(cmd, signature=made)
