"""Subscribers: who receives what. Only confirmed addresses are delivered to, and a person
who leaves (or is forgotten) takes their address out of every table at once.

Every write takes a connection inside ``Database.transaction()``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import aiosqlite

from greenweb import changes
from greenweb.bulletin.items import KINDS
from greenweb.db import fetch_all, fetch_one
from greenweb.newsletter.addresses import clean_address
from greenweb.newsletter.messages import Recipient

Choice = Literal["numero", "settimanale"]
CHOICES: Final[tuple[Choice, ...]] = ("numero", "settimanale")
PENDING_MAX_AGE: Final = 48 * 3600  # seconds an unconfirmed address is kept

_COLUMNS: Final = "id, address, choice, kinds, state, created_at, confirmed_at, bounces"


@dataclass(frozen=True)
class Subscriber:
    id: int
    address: str
    choice: Choice
    kinds: tuple[str, ...]  # () is every kind
    state: Literal["pending", "confirmed"]
    created_at: datetime
    confirmed_at: datetime | None
    bounces: int

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.id, self.address)

    def wants_any(self, kinds: Iterable[str]) -> bool:
        """Whether a message holding items of ``kinds`` is for this subscriber."""
        return not self.kinds or bool(set(self.kinds) & set(kinds))


def _subscriber(row: sqlite3.Row) -> Subscriber:
    confirmed = row["confirmed_at"]
    return Subscriber(
        id=row["id"],
        address=row["address"],
        choice=row["choice"],
        kinds=tuple(json.loads(row["kinds"])),
        state=row["state"],
        created_at=datetime.fromisoformat(row["created_at"]),
        confirmed_at=None if confirmed is None else datetime.fromisoformat(confirmed),
        bounces=row["bounces"],
    )


def clean_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds chosen, known ones only, in the bulletin's order; () for every kind."""
    chosen = set(kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds: {', '.join(sorted(unknown))}")
    ordered = tuple(kind for kind in KINDS if kind in chosen)
    return () if len(ordered) == len(KINDS) else ordered


async def find(conn: aiosqlite.Connection, address: str) -> Subscriber | None:
    row = await fetch_one(
        conn, f"SELECT {_COLUMNS} FROM newsletter_subscriber WHERE address = ?", (address,)
    )
    return None if row is None else _subscriber(row)


async def get(conn: aiosqlite.Connection, subscriber_id: int) -> Subscriber | None:
    row = await fetch_one(
        conn, f"SELECT {_COLUMNS} FROM newsletter_subscriber WHERE id = ?", (subscriber_id,)
    )
    return None if row is None else _subscriber(row)


async def subscribe(
    conn: aiosqlite.Connection,
    address: str,
    choice: Choice,
    kinds: Sequence[str],
    now: datetime,
) -> Subscriber:
    """A pending subscriber for ``address`` (new, or the pending one with its choices
    renewed); a confirmed one stays as it is. AddressError or ValueError store nothing."""
    address = clean_address(address)
    if choice not in CHOICES:
        raise ValueError(f"unknown choice {choice!r}")
    chosen = json.dumps(list(clean_kinds(kinds)))
    await conn.execute(
        "INSERT INTO newsletter_subscriber (address, choice, kinds, state, created_at) "
        "VALUES (?, ?, ?, 'pending', ?) ON CONFLICT (address) DO UPDATE SET "
        "choice = excluded.choice, kinds = excluded.kinds, created_at = excluded.created_at "
        "WHERE state = 'pending'",
        (address, choice, chosen, now.isoformat()),
    )
    found = await find(conn, address)
    assert found is not None
    return found


async def confirm(conn: aiosqlite.Connection, subscriber_id: int, now: datetime) -> bool:
    """Confirm a pending subscriber; False when there is none (already confirmed, or gone)."""
    cursor = await conn.execute(
        "UPDATE newsletter_subscriber SET state = 'confirmed', confirmed_at = ? "
        "WHERE id = ? AND state = 'pending'",
        (now.isoformat(), subscriber_id),
    )
    if cursor.rowcount != 1:
        return False
    await changes.record(conn, changes.SUBSCRIBERS)
    return True


async def remove(conn: aiosqlite.Connection, subscriber_id: int) -> bool:
    """Unsubscribe: delete the subscriber, the messages still waiting for them, and their
    address and bytes from the messages already sent (kept as counts for the figures)."""
    await conn.execute(
        "DELETE FROM newsletter_outbox WHERE subscriber_id = ? "
        "AND state IN ('queued', 'retrying', 'sending')",
        (subscriber_id,),
    )
    await conn.execute(
        "UPDATE newsletter_outbox SET address = NULL, message = x'', subscriber_id = NULL "
        "WHERE subscriber_id = ?",
        (subscriber_id,),
    )
    cursor = await conn.execute("DELETE FROM newsletter_subscriber WHERE id = ?", (subscriber_id,))
    if cursor.rowcount != 1:
        return False
    await changes.record(conn, changes.SUBSCRIBERS)
    return True


async def forget(conn: aiosqlite.Connection, address: str) -> bool:
    """Erase ``address`` wherever it is stored: the subscriber, and every message to it
    (an erasure request). False when greenweb holds nothing of it."""
    found = await find(conn, address)
    if found is not None:
        await remove(conn, found.id)
    await conn.execute(
        "DELETE FROM newsletter_outbox WHERE address = ? "
        "AND state IN ('queued', 'retrying', 'sending')",
        (address,),
    )
    cursor = await conn.execute(
        "UPDATE newsletter_outbox SET address = NULL, message = x'' WHERE address = ?", (address,)
    )
    return found is not None or cursor.rowcount > 0


async def delete_expired_pending(conn: aiosqlite.Connection, now: datetime) -> int:
    """Delete the addresses left unconfirmed for 48 hours; how many."""
    cutoff = datetime.fromtimestamp(now.timestamp() - PENDING_MAX_AGE, now.tzinfo)
    rows = await fetch_all(
        conn,
        "SELECT id FROM newsletter_subscriber WHERE state = 'pending' AND created_at < ?",
        (cutoff.isoformat(),),
    )
    for row in rows:
        await remove(conn, row["id"])
    return len(rows)


async def confirmed(conn: aiosqlite.Connection, choice: Choice) -> list[Subscriber]:
    """The confirmed subscribers of ``choice``, oldest first."""
    rows = await fetch_all(
        conn,
        f"SELECT {_COLUMNS} FROM newsletter_subscriber WHERE state = 'confirmed' AND choice = ? "
        "ORDER BY id",
        (choice,),
    )
    return [_subscriber(row) for row in rows]


async def all_subscribers(conn: aiosqlite.Connection) -> list[Subscriber]:
    rows = await fetch_all(conn, f"SELECT {_COLUMNS} FROM newsletter_subscriber ORDER BY id")
    return [_subscriber(row) for row in rows]
