"""Moderator accounts and their sessions.

Accounts are made on the command line (``greenweb moderator add NAME``); passwords are
kept as argon2id hashes. A login opens a session: a random id whose SHA-256 is stored with
its expiry; the browser gets the id in a signed cookie (see ``security.sign_session``).
Logging out or removing the moderator deletes the session rows, so a copied cookie stops
working at once, not only when it expires.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import aiosqlite

from greenweb import security
from greenweb.db import fetch_all, fetch_one

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class ModeratorError(ValueError):
    """A moderator command that cannot be done (English: the CLI prints it)."""


@dataclass(frozen=True)
class Moderator:
    id: int
    name: str
    created_at: datetime


def _moderator_from_row(row: sqlite3.Row) -> Moderator:
    return Moderator(row["id"], row["name"], datetime.fromtimestamp(row["created_at"], UTC))


def check_name(name: str) -> str | None:
    if not NAME.match(name):
        return "use 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


async def add(conn: aiosqlite.Connection, name: str, password_hash: str, now: float) -> int:
    problem = check_name(name)
    if problem:
        raise ModeratorError(f"{name!r}: {problem}")
    existing = await fetch_one(conn, "SELECT 1 FROM moderators WHERE name = ?", (name,))
    if existing is not None:
        raise ModeratorError(f"{name!r} already exists (remove it first to reset the password)")
    cursor = await conn.execute(
        "INSERT INTO moderators (name, password_hash, created_at) VALUES (?, ?, ?)",
        (name, password_hash, int(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


async def remove(conn: aiosqlite.Connection, name: str) -> None:
    cursor = await conn.execute("DELETE FROM moderators WHERE name = ?", (name,))
    if cursor.rowcount != 1:
        raise ModeratorError(f"{name!r}: no such moderator")


async def list_all(conn: aiosqlite.Connection) -> list[Moderator]:
    rows = await fetch_all(conn, "SELECT id, name, created_at FROM moderators ORDER BY name")
    return [_moderator_from_row(row) for row in rows]


async def authenticate(conn: aiosqlite.Connection, name: str, password: str) -> Moderator | None:
    """The moderator when name and password match; one argon2 verification either way.

    The verification runs in a worker thread: it takes tens of milliseconds of CPU and
    must not stall the event loop.
    """
    row = None
    if NAME.match(name):
        row = await fetch_one(
            conn,
            "SELECT id, name, password_hash, created_at FROM moderators WHERE name = ?",
            (name,),
        )
    stored = row["password_hash"] if row is not None else None
    ok = await asyncio.to_thread(security.verify_password, stored, password)
    if not ok or row is None:
        return None
    return _moderator_from_row(row)


async def rehash_if_needed(conn: aiosqlite.Connection, moderator_id: int, password: str) -> None:
    row = await fetch_one(
        conn, "SELECT password_hash FROM moderators WHERE id = ?", (moderator_id,)
    )
    if row is not None and security.password_needs_rehash(row["password_hash"]):
        new_hash = await asyncio.to_thread(security.hash_password, password)
        await conn.execute(
            "UPDATE moderators SET password_hash = ? WHERE id = ?", (new_hash, moderator_id)
        )


async def open_session(
    conn: aiosqlite.Connection, moderator_id: int, now: float, max_age: int
) -> tuple[str, int]:
    """Store a new session; returns (session id for the cookie, expiry time)."""
    await conn.execute("DELETE FROM moderator_sessions WHERE expires_at <= ?", (int(now),))
    session_id = security.new_session_id()
    expires = int(now) + max_age
    await conn.execute(
        "INSERT INTO moderator_sessions (id_hash, moderator_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)",
        (security.session_id_hash(session_id), moderator_id, int(now), expires),
    )
    return session_id, expires


async def session_moderator(
    conn: aiosqlite.Connection, session_id: str, now: float
) -> Moderator | None:
    row = await fetch_one(
        conn,
        "SELECT m.id, m.name, m.created_at FROM moderator_sessions s "
        "JOIN moderators m ON m.id = s.moderator_id WHERE s.id_hash = ? AND s.expires_at > ?",
        (security.session_id_hash(session_id), int(now)),
    )
    return None if row is None else _moderator_from_row(row)


async def close_session(conn: aiosqlite.Connection, session_id: str) -> None:
    await conn.execute(
        "DELETE FROM moderator_sessions WHERE id_hash = ?", (security.session_id_hash(session_id),)
    )
