"""What public pages show, and which writes changed it: the page cache's invalidation.

Pages show a few *things*, each with a name below. Every public write records, in its own
transaction, the names of what it changed (:func:`record`); every cached page knows the
names of what it shows (the views declare them: :mod:`greenweb.web.shows`). A kept page
is current while nothing it shows changed after it was made, so a vote re-renders its
question and the lists that show counts and leaves the bulletin's pages as they are.

Storage (``migrations/0004_content_changes.sql``): ``content_version.version`` is the
write sequence, moved by every public write; ``content_changes`` holds, per name, the
sequence of its last change. A reader (:class:`ChangeLog`) pays one read of the sequence
per request and reads the changed names only when the sequence moved. A write that moves
the sequence without naming anything changed :data:`EVERYTHING` (a database trigger says
so), and so does a write that names nothing.

The topics (``data/topics.toml``) change only with the board's data files, whose loader
records :data:`EVERYTHING`: they need no name of their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Final

import aiosqlite

from greenweb.db import content_version

# The bulletin's items: home, lists, item pages, deadlines, events, search, feeds, sitemap.
BULLETIN: Final = "bulletin"
# The numbered issues of the bulletin (numeri): their archive, pages, feed and sitemap
# entries. A numero's page also shows its items' current state (a live link, "versione
# attuale"), so the pages that show numeri show BULLETIN as well.
NUMERI: Final = "numeri"
# Which questions are public and what they say (text, stage, answer, theatre piece): the
# board's lists, /pillole, the sitemap.
QUESTIONS: Final = "questions"
# The "anch'io" counts the board's lists show (and sort by).
COUNTS: Final = "counts"
# The public moderation log.
LOG: Final = "log"
# The resources: /risorse (a question's page lists its own: see :func:`question`).
RESOURCES: Final = "resources"
# How many confirmed subscribers the e-mail bulletin has: /impronta's grams per numero sent.
SUBSCRIBERS: Final = "subscribers"
# When the next scheduled item is due: no page shows it, but every worker re-reads it.
SCHEDULE: Final = "schedule"
# Anything at all: the safe default of a write or a page that says nothing more precise.
EVERYTHING: Final = "everything"

_QUESTION_PREFIX: Final = "question:"


def question(question_id: int) -> str:
    """The name of one question's own page: its text, count, answer, sources and piece."""
    return f"{_QUESTION_PREFIX}{question_id:d}"


def question_and_lists(question_id: int) -> tuple[str, str]:
    """What a change to a public question's text or state changes: its page and the lists."""
    return question(question_id), QUESTIONS


async def record(conn: aiosqlite.Connection, *names: str) -> int:
    """Say, inside the transaction of a write, that it changed ``names`` (none: everything).

    Moves the write sequence by one and returns it.
    """
    sequence = await content_version(conn) + 1
    await conn.executemany(
        "INSERT OR REPLACE INTO content_changes (name, version) VALUES (?, ?)",
        [(name, sequence) for name in dict.fromkeys(names)],
    )
    # After the names: the trigger that marks an unnamed move as "everything" looks for them.
    await conn.execute("UPDATE content_version SET version = ?", (sequence,))
    return sequence


_SEQUENCE: Final = "SELECT version FROM content_version"
_NEXT_DUE: Final = "SELECT min(publish_at) FROM bulletin_item WHERE state = 'scheduled'"
_CHANGED_SINCE: Final = "SELECT name, version FROM content_changes WHERE version > ?"


class ChangeLog:
    """One process's view of the changes, read with a synchronous connection of its own.

    Blocking the event loop is fine here: a read takes microseconds, and readers never
    wait for writers in WAL mode. A database that cannot be read (locked during recovery,
    missing) reads as None: the caller bypasses its cache.

    Only changes after the first read are kept: whatever is made from then on was made
    after the older ones. When the sequence goes back (another database file in place) or
    reading failed, :attr:`generation` moves on: everything made before counts as stale.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self.sequence: int | None = None  # the last one read
        self.generation = 0
        self._conn: sqlite3.Connection | None = None
        self._last: dict[str, int] = {}  # name -> sequence of its last change seen
        # The Unix time the next scheduled item is due, as of the last sequence read.
        self.next_due: float | None = None

    def read(self) -> int | None:
        """The current write sequence (and, when it moved, the names changed since)."""
        try:
            conn = self._connect()
            row = conn.execute(_SEQUENCE).fetchone()
            if row is None:
                return None
            sequence = int(row[0])
            if sequence != self.sequence:
                self._catch_up(conn, sequence)
        except sqlite3.Error:
            self.close()
            return None
        return sequence

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            self._conn = conn
        return self._conn

    def _catch_up(self, conn: sqlite3.Connection, sequence: int) -> None:
        seen = self.sequence
        if seen is None or sequence < seen:
            self._forget()
        else:
            # A write committed between the two reads may show up here with a number above
            # ``sequence``: kept too, it is a real change, and comparisons only ever ask
            # whether a name changed after some sequence.
            last = self._last
            for name, at in conn.execute(_CHANGED_SINCE, (seen,)):
                if at > last.get(name, 0):
                    last[name] = at
        due = conn.execute(_NEXT_DUE).fetchone()[0]
        self.next_due = None if due is None else datetime.fromisoformat(due).timestamp()
        self.sequence = sequence

    def _forget(self) -> None:
        self._last.clear()
        self.generation += 1

    def changed_after(self, names: Iterable[str] | None, sequence: int) -> bool:
        """Whether anything in ``names`` (None: anything at all) changed after ``sequence``,
        as far as the last :meth:`read` knows."""
        if self.sequence is None or self.sequence <= sequence:
            return False
        if names is None:
            return True
        last = self._last
        if last.get(EVERYTHING, 0) > sequence:
            return True
        return any(last.get(name, 0) > sequence for name in names)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self.sequence = None
            self._forget()
