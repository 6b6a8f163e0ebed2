"""The weekly digest: once the ISO week (Monday to Sunday, in Rome) is over, the items
published in it go to the confirmed subscribers of *riepilogo settimanale*, each getting
the items of the kinds they chose. The week is recorded in the same transaction as its
messages, so it is enqueued once, whichever sender comes first."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import aiosqlite

from greenweb.bulletin.items import ITEM_COLUMNS, Item, item_from_row
from greenweb.bulletin.queries import ORDER
from greenweb.db import fetch_all, fetch_one
from greenweb.italian import today_in_rome
from greenweb.newsletter import outbox, subscribers
from greenweb.newsletter.messages import Letterhead, digest_message, iso_week


def last_complete_week(now: datetime) -> tuple[str, date, date]:
    """(``2026-W48``, its Monday, its Sunday) of the last week that ended before ``now``."""
    today = today_in_rome(now)
    monday = today - timedelta(days=today.weekday() + 7)
    return iso_week(monday), monday, monday + timedelta(days=6)


async def items_published_between(
    conn: aiosqlite.Connection, first: date, last: date
) -> list[Item]:
    rows = await fetch_all(
        conn,
        f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE state = 'published' "
        f"AND published BETWEEN ? AND ? ORDER BY {ORDER}",
        (first.isoformat(), last.isoformat()),
    )
    return [item_from_row(row) for row in rows]


async def enqueue_due(conn: aiosqlite.Connection, letterhead: Letterhead, now: datetime) -> int:
    """Enqueue the digest of the last complete week unless it was; how many messages.
    Call inside ``Database.transaction()``."""
    week, monday, sunday = last_complete_week(now)
    done = await fetch_one(conn, "SELECT 1 FROM newsletter_digest_week WHERE week = ?", (week,))
    if done is not None:
        return 0
    items = await items_published_between(conn, monday, sunday)
    added = 0
    for subscriber in await subscribers.confirmed(conn, "settimanale") if items else []:
        chosen = [item for item in items if subscriber.wants_any((item.kind,))]
        if not chosen:
            continue
        built = digest_message(letterhead, subscriber.recipient, week, chosen, now)
        added += await outbox.enqueue(
            conn, subscriber.recipient, "riepilogo", week, built, now.timestamp()
        )
    await conn.execute(
        "INSERT INTO newsletter_digest_week (week, enqueued_at, messages) VALUES (?, ?, ?)",
        (week, outbox.stamp(now.timestamp()), added),
    )
    return added
