"""Aggregate counts of the board (``board_counters``, migration 0008): a name and a number,
nothing about any person, no question, no time.

``PREVIEW_JOINS``: how many times someone said "anch'io" to a similar question shown in the
preview of their own draft, instead of sending a new question. Moderators see it in their
queue.
"""

from __future__ import annotations

from typing import Final

import aiosqlite

from greenweb.db import fetch_value

PREVIEW_JOINS: Final = "anchio_da_anteprima"


async def bump(conn: aiosqlite.Connection, name: str) -> None:
    """Add one to ``name``, inside the caller's write transaction."""
    cursor = await conn.execute(
        "UPDATE board_counters SET value = value + 1 WHERE name = ?", (name,)
    )
    if cursor.rowcount != 1:
        raise LookupError(f"no board counter named {name!r}")


async def value(conn: aiosqlite.Connection, name: str) -> int:
    return int(
        await fetch_value(conn, "SELECT value FROM board_counters WHERE name = ?", (name,)) or 0
    )
