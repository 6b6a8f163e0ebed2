"""One sender at a time: a lease in SQLite that every would-be sender tries to take.

``greenweb serve`` workers and a cron ``greenweb newsletter send`` may all try at once; the
taking happens under SQLite's write lock (``BEGIN IMMEDIATE``), so exactly one holds it. A
holder renews it after every message; a lease runs out when its holder stops renewing,
and is free at once when its holder is a process of this machine that no longer exists
(a kill -9 need not wait for the lease to run out).
"""

from __future__ import annotations

import os
import secrets
import socket
from typing import Final

import aiosqlite

from greenweb.db import fetch_one

LEASE_SECONDS: Final = 120.0


def new_holder() -> str:
    """This process's name as a holder: host, pid, and a random part for several senders
    in one process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def _gone(holder: str) -> bool:
    """The holder is a process of this machine that has ended."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def take(conn: aiosqlite.Connection, holder: str, now: float) -> bool:
    """Take or renew the lease for ``holder``; False while another holds a live one. Call
    inside ``Database.transaction()``."""
    row = await fetch_one(conn, "SELECT holder, expires_at FROM newsletter_sender_lease")
    free = row is None or row["holder"] == holder or row["expires_at"] < now or _gone(row["holder"])
    if not free:
        return False
    await conn.execute(
        "INSERT INTO newsletter_sender_lease (id, holder, expires_at) VALUES (1, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at",
        (holder, now + LEASE_SECONDS),
    )
    return True


async def release(conn: aiosqlite.Connection, holder: str) -> None:
    await conn.execute("DELETE FROM newsletter_sender_lease WHERE holder = ?", (holder,))
