"""What publishing a numero does for the e-mail: one message per confirmed subscriber of
*ogni numero* who wants one of its items' kinds, in the transaction that publishes it."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from greenweb.bulletin import numeri
from greenweb.config import Settings
from greenweb.newsletter import outbox, subscribers
from greenweb.newsletter.messages import Letterhead, numero_message


def letterhead_for(settings: Settings) -> Letterhead | None:
    """The letterhead of this site's e-mails; None when e-mail is not available (no
    GREENWEB_SMTP_HOST: nobody can have subscribed, and nothing is enqueued)."""
    return Letterhead.from_settings(settings) if settings.mail_enabled else None


async def enqueue_numero(
    conn: aiosqlite.Connection, letterhead: Letterhead, number: int, now: datetime
) -> int:
    """Enqueue published numero ``number`` for its subscribers; how many messages were
    added (an address that already has it gets no second one)."""
    numero = await numeri.get_numero(conn, number)
    if numero is None:
        raise ValueError(f"numero {number} is not published")
    kinds = {entry.facts.kind for entry in numero.entries}
    added = 0
    for subscriber in await subscribers.confirmed(conn, "numero"):
        if not subscriber.wants_any(kinds):
            continue
        built = numero_message(letterhead, subscriber.recipient, numero, now)
        added += await outbox.enqueue(
            conn, subscriber.recipient, "numero", str(number), built, now.timestamp()
        )
    return added


async def publish_numero(
    conn: aiosqlite.Connection, number: int, now: datetime, letterhead: Letterhead | None
) -> int:
    """:func:`greenweb.bulletin.numeri.publish`, then the numero's e-mails in the same
    transaction: both happen, or neither. Returns the messages enqueued. Call inside
    ``Database.transaction()``; NumeroError as ``publish`` raises it, changing nothing."""
    await numeri.publish(conn, number, now)
    if letterhead is None:
        return 0
    return await enqueue_numero(conn, letterhead, number, now)
