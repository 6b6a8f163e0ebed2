"""The outbox: one row per message, enqueued inside the transaction that decided it, and
the marks delivery leaves on it.

A message is ``queued``, then ``sending`` while one SMTP transaction for it is open, then
``sent`` once the server answered 250, ``retrying`` after a 4xx answer or a lost
connection (sent again after a backoff), or ``bounced`` after a 5xx. A row left
``sending`` by a sender that died is sent again: the server never acknowledged it, or
the row would say ``sent``.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

import aiosqlite

from greenweb.db import fetch_all, fetch_one
from greenweb.newsletter import subscribers
from greenweb.newsletter.messages import Built, Recipient

Kind = Literal["conferma", "gestione", "numero", "riepilogo"]
State = Literal["queued", "sending", "sent", "retrying", "bounced"]
STATES: Final[tuple[State, ...]] = ("queued", "sending", "sent", "retrying", "bounced")
BOUNCES_TO_UNSUBSCRIBE: Final = 3
FIRST_RETRY: Final = 60.0  # seconds; doubled at each attempt
LAST_RETRY: Final = 6 * 3600.0
MAX_ERROR_CHARS: Final = 300

log = logging.getLogger("greenweb.newsletter")


def stamp(moment: float) -> str:
    """Unix time as the outbox stores it: UTC ISO text to the second, which sorts as time."""
    return datetime.fromtimestamp(int(moment), UTC).isoformat()


def backoff(attempts: int) -> float:
    """Seconds before attempt ``attempts + 1``: 1, 2, 4 ... minutes, at most 6 hours."""
    return min(FIRST_RETRY * 2.0 ** max(attempts - 1, 0), LAST_RETRY)


@dataclass(frozen=True)
class Queued:
    """A message due for delivery."""

    id: int
    subscriber_id: int | None
    address: str
    kind: Kind
    ref: str
    message: bytes
    attempts: int


async def enqueue(
    conn: aiosqlite.Connection,
    recipient: Recipient,
    kind: Kind,
    ref: str,
    built: Built,
    now: float,
) -> bool:
    """Add ``built`` for ``recipient`` to the outbox; False when this address already has
    the message ``kind``/``ref`` (a numero or a week is never enqueued twice). Call inside
    the caller's ``Database.transaction()``: the message exists if and only if the event
    that decided it was recorded."""
    cursor = await conn.execute(
        "INSERT INTO newsletter_outbox (subscriber_id, address, kind, ref, message, size, "
        "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (address, kind, ref) DO NOTHING",
        (
            recipient.subscriber_id,
            recipient.address,
            kind,
            ref,
            built.message,
            built.size,
            stamp(now),
            stamp(now),
        ),
    )
    return cursor.rowcount == 1


def _queued(row: sqlite3.Row) -> Queued:
    return Queued(
        id=row["id"],
        subscriber_id=row["subscriber_id"],
        address=row["address"],
        kind=row["kind"],
        ref=row["ref"],
        message=bytes(row["message"]),
        attempts=row["attempts"],
    )


async def due(conn: aiosqlite.Connection, now: float, limit: int) -> list[Queued]:
    """The messages to send now, oldest first: queued ones, retries whose time has come,
    and those a dead sender left ``sending`` (only the lease's holder calls this)."""
    rows = await fetch_all(
        conn,
        "SELECT id, subscriber_id, address, kind, ref, message, attempts FROM newsletter_outbox "
        "WHERE state IN ('queued', 'retrying', 'sending') AND next_attempt_at <= ? "
        "AND address IS NOT NULL ORDER BY next_attempt_at, id LIMIT ?",
        (stamp(now), limit),
    )
    return [_queued(row) for row in rows]


async def mark_sending(conn: aiosqlite.Connection, message_id: int) -> bool:
    """About to send: False when the row is gone or done meanwhile (an unsubscribe)."""
    cursor = await conn.execute(
        "UPDATE newsletter_outbox SET state = 'sending' WHERE id = ? "
        "AND state IN ('queued', 'retrying', 'sending')",
        (message_id,),
    )
    return cursor.rowcount == 1


async def mark_sent(conn: aiosqlite.Connection, message: Queued, now: float) -> None:
    """The server answered 250: the message is delivered, and its address is no bouncer."""
    await conn.execute(
        "UPDATE newsletter_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
        "last_error = NULL WHERE id = ?",
        (stamp(now), message.id),
    )
    if message.subscriber_id is not None:
        await conn.execute(
            "UPDATE newsletter_subscriber SET bounces = 0 WHERE id = ?", (message.subscriber_id,)
        )


async def mark_retry(conn: aiosqlite.Connection, message: Queued, now: float, error: str) -> None:
    """A 4xx answer or a lost connection: try again after the backoff."""
    attempts = message.attempts + 1
    await conn.execute(
        "UPDATE newsletter_outbox SET state = 'retrying', attempts = ?, next_attempt_at = ?, "
        "last_error = ? WHERE id = ? AND state = 'sending'",
        (attempts, stamp(now + backoff(attempts)), error[:MAX_ERROR_CHARS], message.id),
    )


async def mark_bounced(conn: aiosqlite.Connection, message: Queued, now: float, error: str) -> bool:
    """A 5xx answer: the message is not sent again, and the address counts one bounce;
    at the third it is unsubscribed (True), with a line in the log."""
    await conn.execute(
        "UPDATE newsletter_outbox SET state = 'bounced', attempts = attempts + 1, "
        "last_error = ? WHERE id = ? AND state = 'sending'",
        (error[:MAX_ERROR_CHARS], message.id),
    )
    if message.subscriber_id is None:
        return False
    await conn.execute(
        "UPDATE newsletter_subscriber SET bounces = bounces + 1 WHERE id = ?",
        (message.subscriber_id,),
    )
    row = await fetch_one(
        conn, "SELECT bounces FROM newsletter_subscriber WHERE id = ?", (message.subscriber_id,)
    )
    if row is None or row["bounces"] < BOUNCES_TO_UNSUBSCRIBE:
        return False
    await subscribers.remove(conn, message.subscriber_id)
    # The subscriber's id, not the address: the log outlives the erasure.
    log.warning(
        "newsletter: subscriber %d unsubscribed after %d refusals (last: %s)",
        message.subscriber_id,
        BOUNCES_TO_UNSUBSCRIBE,
        error[:MAX_ERROR_CHARS],
    )
    return True


async def state_counts(conn: aiosqlite.Connection) -> dict[State, int]:
    """How many messages are in each state (every state, 0 included)."""
    rows = await fetch_all(
        conn, "SELECT state, count(*) AS n FROM newsletter_outbox GROUP BY state"
    )
    found = {row["state"]: row["n"] for row in rows}
    return {state: int(found.get(state, 0)) for state in STATES}
