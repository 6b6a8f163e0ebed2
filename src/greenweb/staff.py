"""Staff accounts, their roles, and their sessions: one login for the board and the bulletin.

Accounts are made on the command line (``greenweb staff add NAME --role ...``, or
``greenweb moderator add NAME`` for a moderator); passwords are kept as argon2id hashes. A
role says which area an account may use: *moderatore* the question board's moderation,
*redattore* the bulletin's newsroom; one person may hold both, and every account holds at
least one. The accounts stay in the ``moderators`` table they had before roles existed; the
roles are ``staff_roles``.

A login opens a session: a random id whose SHA-256 is stored with its expiry; the browser
gets the id in a signed cookie (see ``security.sign_session``). Logging out or removing the
account deletes the session rows, so a copied cookie stops working at once, not only when
it expires. Roles are read with the session on every request, so a change of roles holds
from the next page on.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import aiosqlite

from greenweb import security
from greenweb.db import fetch_all, fetch_one

MODERATORE: Final = "moderatore"
REDATTORE: Final = "redattore"
ROLES: Final = (MODERATORE, REDATTORE)
# How the CLI names an account of one role in English ("no such moderator").
ROLE_NOUNS: Final = {MODERATORE: "moderator", REDATTORE: "editor"}

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")

# Every column a StaffMember is made of, for an account aliased ``m``.
_MEMBER_COLUMNS = (
    "m.id, m.name, m.created_at, "
    "(SELECT group_concat(r.role) FROM staff_roles r WHERE r.moderator_id = m.id) AS roles"
)


class StaffError(ValueError):
    """A staff command that cannot be done (English: the CLI prints it)."""


@dataclass(frozen=True)
class StaffMember:
    id: int
    name: str
    created_at: datetime
    roles: frozenset[str]

    def can(self, role: str) -> bool:
        """Whether this account holds ``role`` (one of ``ROLES``)."""
        return role in self.roles

    @property
    def sorted_roles(self) -> tuple[str, ...]:
        """The roles in the order of ``ROLES``, for listings."""
        return tuple(role for role in ROLES if role in self.roles)


def _member_from_row(row: sqlite3.Row) -> StaffMember:
    roles = frozenset((row["roles"] or "").split(",")) - {""}
    return StaffMember(
        row["id"], row["name"], datetime.fromtimestamp(row["created_at"], UTC), roles
    )


def check_name(name: str) -> str | None:
    if not NAME.match(name):
        return "use 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None


def check_roles(roles: Iterable[str]) -> str | None:
    """What is wrong with ``roles`` as an account's roles, or None."""
    chosen = list(roles)
    if not chosen:
        return f"give at least one role ({', '.join(ROLES)})"
    unknown = [role for role in chosen if role not in ROLES]
    if unknown:
        return f"unknown role {unknown[0]!r} (use {', '.join(ROLES)})"
    return None


def _checked_roles(roles: Iterable[str]) -> frozenset[str]:
    chosen = list(roles)
    problem = check_roles(chosen)
    if problem:
        raise StaffError(problem)
    return frozenset(chosen)


async def _write_roles(conn: aiosqlite.Connection, member_id: int, roles: frozenset[str]) -> None:
    await conn.execute("DELETE FROM staff_roles WHERE moderator_id = ?", (member_id,))
    await conn.executemany(
        "INSERT INTO staff_roles (moderator_id, role) VALUES (?, ?)",
        [(member_id, role) for role in ROLES if role in roles],
    )


async def add(
    conn: aiosqlite.Connection,
    name: str,
    password_hash: str,
    now: float,
    roles: Iterable[str],
) -> int:
    """Make the account ``name`` holding ``roles`` (at least one); returns its id."""
    problem = check_name(name)
    if problem:
        raise StaffError(f"{name!r}: {problem}")
    chosen = _checked_roles(roles)
    existing = await fetch_one(conn, "SELECT 1 FROM moderators WHERE name = ?", (name,))
    if existing is not None:
        raise StaffError(f"{name!r} already exists (remove it first to reset the password)")
    cursor = await conn.execute(
        "INSERT INTO moderators (name, password_hash, created_at) VALUES (?, ?, ?)",
        (name, password_hash, int(now)),
    )
    assert cursor.lastrowid is not None
    await _write_roles(conn, cursor.lastrowid, chosen)
    return cursor.lastrowid


async def get(conn: aiosqlite.Connection, name: str) -> StaffMember | None:
    row = await fetch_one(
        conn, f"SELECT {_MEMBER_COLUMNS} FROM moderators m WHERE m.name = ?", (name,)
    )
    return None if row is None else _member_from_row(row)


async def remove(conn: aiosqlite.Connection, name: str, *, holding: str | None = None) -> None:
    """Remove the account ``name`` (its roles and sessions go with it).

    With ``holding``, only an account that holds that role: ``greenweb moderator remove``
    removes moderators, never an editor who is not one.
    """
    member = await get(conn, name)
    if member is None or (holding is not None and not member.can(holding)):
        raise StaffError(f"{name!r}: no such {ROLE_NOUNS.get(holding or '', 'staff account')}")
    await conn.execute("DELETE FROM moderators WHERE id = ?", (member.id,))


async def list_all(conn: aiosqlite.Connection, role: str | None = None) -> list[StaffMember]:
    """Every account by name, with its roles; with ``role``, only those holding it."""
    rows = await fetch_all(conn, f"SELECT {_MEMBER_COLUMNS} FROM moderators m ORDER BY m.name")
    members = [_member_from_row(row) for row in rows]
    return [m for m in members if role is None or m.can(role)]


async def set_roles(conn: aiosqlite.Connection, name: str, roles: Iterable[str]) -> StaffMember:
    """Replace the roles of ``name`` (at least one); returns the account as it is now."""
    chosen = _checked_roles(roles)
    member = await get(conn, name)
    if member is None:
        raise StaffError(f"{name!r}: no such staff account")
    await _write_roles(conn, member.id, chosen)
    return StaffMember(member.id, member.name, member.created_at, chosen)


async def authenticate(conn: aiosqlite.Connection, name: str, password: str) -> StaffMember | None:
    """The account when name and password match; one argon2 verification either way.

    The verification runs in a worker thread: it takes tens of milliseconds of CPU and
    must not stall the event loop.
    """
    row = None
    if NAME.match(name):
        row = await fetch_one(
            conn,
            f"SELECT {_MEMBER_COLUMNS}, m.password_hash FROM moderators m WHERE m.name = ?",
            (name,),
        )
    stored = row["password_hash"] if row is not None else None
    ok = await asyncio.to_thread(security.verify_password, stored, password)
    if not ok or row is None:
        return None
    return _member_from_row(row)


async def rehash_if_needed(conn: aiosqlite.Connection, member_id: int, password: str) -> None:
    row = await fetch_one(conn, "SELECT password_hash FROM moderators WHERE id = ?", (member_id,))
    if row is not None and security.password_needs_rehash(row["password_hash"]):
        new_hash = await asyncio.to_thread(security.hash_password, password)
        await conn.execute(
            "UPDATE moderators SET password_hash = ? WHERE id = ?", (new_hash, member_id)
        )


async def open_session(
    conn: aiosqlite.Connection, member_id: int, now: float, max_age: int
) -> tuple[str, int]:
    """Store a new session; returns (session id for the cookie, expiry time)."""
    await conn.execute("DELETE FROM moderator_sessions WHERE expires_at <= ?", (int(now),))
    session_id = security.new_session_id()
    expires = int(now) + max_age
    await conn.execute(
        "INSERT INTO moderator_sessions (id_hash, moderator_id, created_at, expires_at) "
        "VALUES (?, ?, ?, ?)",
        (security.session_id_hash(session_id), member_id, int(now), expires),
    )
    return session_id, expires


async def session_member(
    conn: aiosqlite.Connection, session_id: str, now: float
) -> StaffMember | None:
    """The account of an open, unexpired session, with its roles as they are now."""
    row = await fetch_one(
        conn,
        f"SELECT {_MEMBER_COLUMNS} FROM moderator_sessions s "
        "JOIN moderators m ON m.id = s.moderator_id WHERE s.id_hash = ? AND s.expires_at > ?",
        (security.session_id_hash(session_id), int(now)),
    )
    return None if row is None else _member_from_row(row)


async def close_session(conn: aiosqlite.Connection, session_id: str) -> None:
    await conn.execute(
        "DELETE FROM moderator_sessions WHERE id_hash = ?", (security.session_id_hash(session_id),)
    )
