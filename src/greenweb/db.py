"""SQLite access: connections, pragmas, migrations and the one write path.

Reads go through a shared read connection; WAL lets them run beside a writer. Every
write goes through :meth:`Database.transaction`, which serialises writers of this process
with a lock and takes SQLite's write lock up front with ``BEGIN IMMEDIATE`` so that
several worker processes queue on the busy timeout instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from greenweb.markup import plain_text

T = TypeVar("T")
R = TypeVar("R")

BUSY_TIMEOUT_MS = 10_000

PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA foreign_keys = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
    # FULL: an acknowledged write survives a power loss too, not only a crash (NORMAL in
    # WAL mode may drop the last transactions then). Writes are rare; reads pay nothing.
    "PRAGMA synchronous = FULL",
)


async def connect(path: Path | str) -> aiosqlite.Connection:
    """Open a connection with greenweb's pragmas, in autocommit mode."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        await conn.execute(pragma)
    return conn


def migration_scripts() -> list[tuple[int, str, str]]:
    """(number, name, sql) of every migration shipped with the package, in order."""
    folder = resources.files("greenweb") / "migrations"
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number = int(name.split("_", 1)[0])
        found.append((number, name, entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [n for n, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, found {numbers}")
    return found


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


# SQL functions a migration may call to fill a table from existing rows with the same
# Python the writes use (0008 fills the search index with the text of rendered answers).
# Lent for the migrations only: no schema object (trigger, view, index) may depend on them.
MIGRATION_FUNCTIONS: dict[str, Callable[[str], str]] = {"plain_text": plain_text}


async def migrate(conn: aiosqlite.Connection) -> list[str]:
    """Apply the migrations the database has not seen yet; return their names.

    Each migration runs in its own transaction together with the bump of
    ``user_version``, so a crash leaves the database at a whole step.
    """
    applied: list[str] = []
    for function_name, function in MIGRATION_FUNCTIONS.items():
        await conn.create_function(function_name, 1, function, deterministic=True)
    for number, name, sql in migration_scripts():
        if number <= await schema_version(conn):
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-check under the write lock: another process may have migrated meanwhile.
            if number <= await schema_version(conn):
                await conn.execute("ROLLBACK")
                continue
            for statement in split_sql(sql):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {number:d}")
            await conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                await conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied


_LEADING_COMMENT = re.compile(r"\s*(?:--[^\n]*(?:\n|$)|/\*.*?\*/)", re.DOTALL)


def _without_leading_comments(text: str) -> str:
    while match := _LEADING_COMMENT.match(text):
        text = text[match.end() :]
    return text.strip()


def split_sql(script: str) -> Iterable[str]:
    """Split a migration into statements (executescript would commit on its own).

    Cuts after every ``;`` that ends a complete statement, as SQLite judges it, so
    semicolons in strings, comments and trigger bodies stay where they are and two
    statements on one line are still two.
    """
    statement = ""
    for piece in re.split(r"(?<=;)", script):
        statement += piece
        if sqlite3.complete_statement(statement):
            text = _without_leading_comments(statement)
            if text.rstrip(";").strip():
                yield text
            statement = ""
    if _without_leading_comments(statement):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {statement!r}")


class Database:
    """The connections of one process, opened in the app's lifespan."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._reader: aiosqlite.Connection | None = None
        self._writer: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self, *, run_migrations: bool = True) -> None:
        self._writer = await connect(self.path)
        if run_migrations:
            await migrate(self._writer)
        self._reader = await connect(self.path)

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        if self._writer is None:
            raise RuntimeError("database is not open")
        async with self._write_lock:
            conn = self._writer
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                await conn.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself fails (a deferred constraint, a full disk): the
                # transaction is still open then, and the next BEGIN would fail forever.
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] | dict[str, Any] = ()
) -> list[sqlite3.Row]:
    async with conn.execute(sql, params) as cursor:
        return list(await cursor.fetchall())


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] | dict[str, Any] = ()
) -> sqlite3.Row | None:
    async with conn.execute(sql, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
        return row


async def fetch_value(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] | dict[str, Any] = ()
) -> Any:
    row = await fetch_one(conn, sql, params)
    return None if row is None else row[0]


_FIELD_NAMES: dict[type[Any], frozenset[str]] = {}


def _field_names(record: type[Any]) -> frozenset[str]:
    names = _FIELD_NAMES.get(record)
    if names is None:
        names = _FIELD_NAMES[record] = frozenset(field.name for field in dataclasses.fields(record))
    return names


def record_from_row(
    record: type[R], row: sqlite3.Row, parse: Mapping[str, Callable[[Any], Any]] | None = None
) -> R:
    """The dataclass ``record`` of a row: each field from the column of its name, through
    ``parse[name]`` where the stored form differs; a field the row has no column for keeps
    its default."""
    parse = parse or {}
    values = {name: row[name] for name in _field_names(record).intersection(row.keys())}
    for name in parse.keys() & values.keys():
        values[name] = parse[name](values[name])
    return record(**values)


async def content_version(conn: aiosqlite.Connection) -> int:
    """The write sequence: a number every write that changes a public page moves
    (:func:`greenweb.changes.record` says what it changed, too)."""
    return int(await fetch_value(conn, "SELECT version FROM content_version") or 0)


def with_database(path: Path | str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Open the database at ``path`` (migrated), run ``work`` on it, and close it: what a
    command or a script does once, outside the app's lifespan."""

    async def run() -> T:
        db = Database(path)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())
