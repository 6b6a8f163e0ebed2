"""Subscribers and queued messages made as the site makes them, for the delivery tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from greenweb.config import Settings
from greenweb.db import Database, fetch_all, with_database
from greenweb.newsletter import outbox, subscribers
from greenweb.newsletter.delivery import Sender
from greenweb.newsletter.messages import Letterhead, confirmation_message
from greenweb.newsletter.subscribers import Choice

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def add_subscribers(
    settings: Settings,
    addresses: Sequence[str],
    choice: Choice = "numero",
    kinds: Sequence[str] = (),
    *,
    now: datetime = START,
) -> list[int]:
    """Confirmed subscribers of ``addresses``; their ids."""

    async def work(db: Database) -> list[int]:
        ids = []
        async with db.transaction() as conn:
            for address in addresses:
                found = await subscribers.subscribe(conn, address, choice, kinds, now)
                await subscribers.confirm(conn, found.id, now)
                ids.append(found.id)
        return ids

    return with_database(settings.db_path, work)


def queue_messages(settings: Settings, addresses: Sequence[str], ref: str = "1") -> None:
    """One message (a confirmation request) to each subscriber of ``addresses``, queued."""
    letterhead = Letterhead.from_settings(settings)

    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            for address in addresses:
                found = await subscribers.find(conn, address)
                assert found is not None
                built = confirmation_message(letterhead, found.recipient, ref, START)
                await outbox.enqueue(
                    conn, found.recipient, "conferma", ref, built, START.timestamp()
                )

    with_database(settings.db_path, work)


def outbox_rows(settings: Settings) -> list[dict[str, object]]:
    async def work(db: Database) -> list[dict[str, object]]:
        rows = await fetch_all(
            db.reader,
            "SELECT id, address, kind, ref, state, attempts, next_attempt_at, last_error, "
            "subscriber_id FROM newsletter_outbox ORDER BY id",
        )
        return [dict(row) for row in rows]

    return with_database(settings.db_path, work)


def states(settings: Settings) -> dict[str, str]:
    """{address: state} of the outbox."""
    return {str(row["address"]): str(row["state"]) for row in outbox_rows(settings)}


def deliver_outbox(settings: Settings, now: float) -> None:
    """One pass of the sender over the outbox at Unix time ``now`` (its waits take no time)."""

    async def no_wait(seconds: float) -> None:
        return None

    async def work(db: Database) -> None:
        await Sender(db, settings, clock=lambda: now, sleep=no_wait).deliver()

    with_database(settings.db_path, work)


def newsletter_counts(settings: Settings) -> dict[str, int]:
    """Rows of the subscribers and the outbox: what a refused form must leave as it was."""

    async def work(db: Database) -> dict[str, int]:
        counts = {}
        for table in ("newsletter_subscriber", "newsletter_outbox"):
            rows = await fetch_all(db.reader, f"SELECT count(*) AS n FROM {table}")
            counts[table] = int(rows[0]["n"])
        return counts

    return with_database(settings.db_path, work)
