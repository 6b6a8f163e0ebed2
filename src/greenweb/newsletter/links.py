"""What the subscription pages do, without HTTP: ask to subscribe (a confirmation e-mail),
ask for the management link, and act on a signed link from an e-mail (confirm,
unsubscribe, manage). The public pages call these inside one ``Database.transaction()``.

Asking never tells who is subscribed: the caller shows the same "controlla la tua casella"
page whatever happened. A link that cannot act raises :class:`LinkError` with the reason,
in Italian, for a clear page instead of a 500.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import aiosqlite

from greenweb.newsletter import outbox, subscribers, tokens
from greenweb.newsletter.messages import (
    CONFIRM_MAX_AGE,
    Letterhead,
    confirmation_message,
    management_message,
)
from greenweb.newsletter.subscribers import Choice, Subscriber

MANAGE_MAX_AGE: Final = 7 * 24 * 3600
# How old each link may be; None: an unsubscribe link works as long as the subscription
# (RFC 8058 asks that it keep working; it is bound to the address it was made for).
MAX_AGES: Final[dict[tokens.Purpose, int | None]] = {
    "conferma": CONFIRM_MAX_AGE,
    "annulla": None,
    "gestisci": MANAGE_MAX_AGE,
}


class LinkProblem(enum.Enum):
    FORGED = "forged"
    EXPIRED = "expired"
    DONE = "done"  # already confirmed, or the subscription no longer exists


LINK_MESSAGES: Final = {
    LinkProblem.FORGED: "Questo collegamento non è valido: copialo per intero dall'e-mail.",
    LinkProblem.EXPIRED: "Questo collegamento è scaduto: iscriviti di nuovo, o chiedi un nuovo "
    "collegamento per gestire l'iscrizione.",
    LinkProblem.DONE: "Questo collegamento è già stato usato: non c'è più niente da fare.",
}


class LinkError(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        self.problem = problem
        super().__init__(problem.value)

    @property
    def message(self) -> str:
        return LINK_MESSAGES[self.problem]


def _ref(now: datetime) -> str:
    # One request, one message: a second request later gets a new e-mail (the form's rate
    # limit bounds how many), never a duplicate of one still queued.
    return str(int(now.timestamp()))


async def request_subscription(
    conn: aiosqlite.Connection,
    letterhead: Letterhead,
    address: str,
    choice: Choice,
    kinds: Sequence[str],
    now: datetime,
) -> None:
    """A new or pending address gets (another) confirmation e-mail; a confirmed one gets
    nothing and stays as it is. AddressError or ValueError for bad input, storing nothing."""
    subscriber = await subscribers.subscribe(conn, address, choice, kinds, now)
    if subscriber.state != "pending":
        return
    built = confirmation_message(letterhead, subscriber.recipient, _ref(now), now)
    await outbox.enqueue(conn, subscriber.recipient, "conferma", _ref(now), built, now.timestamp())


async def request_management(
    conn: aiosqlite.Connection, letterhead: Letterhead, address: str, now: datetime
) -> None:
    """A confirmed address gets the management link by e-mail; any other gets nothing."""
    subscriber = await subscribers.find(conn, address)
    if subscriber is None or subscriber.state != "confirmed":
        return
    built = management_message(letterhead, subscriber.recipient, _ref(now), now)
    await outbox.enqueue(conn, subscriber.recipient, "gestione", _ref(now), built, now.timestamp())


async def holder_of(
    conn: aiosqlite.Connection, secret: bytes, purpose: tokens.Purpose, token: str, now: datetime
) -> Subscriber:
    """The subscriber a link of ``purpose`` was made for, or LinkError."""
    claim = tokens.read(token)
    if claim is None:
        raise LinkError(LinkProblem.FORGED)
    subscriber = await subscribers.get(conn, claim.subscriber_id)
    if subscriber is None:
        # Gone (unsubscribed, expired, forgotten) or never was: a forged id is told apart
        # from a used link only by the signature, which needs the address we no longer hold.
        raise LinkError(LinkProblem.DONE)
    if not tokens.verify(secret, purpose, claim, subscriber.address, now.timestamp()):
        raise LinkError(LinkProblem.FORGED)
    max_age = MAX_AGES[purpose]
    if max_age is not None and not (0 <= now.timestamp() - claim.issued_at <= max_age):
        raise LinkError(LinkProblem.EXPIRED)
    return subscriber


async def confirm(
    conn: aiosqlite.Connection, secret: bytes, token: str, now: datetime
) -> Subscriber:
    """The confirmation link's POST: the address is subscribed from now on."""
    subscriber = await holder_of(conn, secret, "conferma", token, now)
    if not await subscribers.confirm(conn, subscriber.id, now):
        raise LinkError(LinkProblem.DONE)
    return subscriber


async def unsubscribe(conn: aiosqlite.Connection, secret: bytes, token: str, now: datetime) -> None:
    """The one-click unsubscribe (RFC 8058) and the button of its page: the address is
    deleted at once, with every message still waiting for it."""
    subscriber = await holder_of(conn, secret, "annulla", token, now)
    await subscribers.remove(conn, subscriber.id)
