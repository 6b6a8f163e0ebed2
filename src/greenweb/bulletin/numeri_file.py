"""``numeri.toml`` beside the bulletin's items: the numeri that files publish.

The file lists numeri as ``[[numero]]`` tables: ``number``, ``title``, ``items`` (the slugs
of the directory's items, in the numero's order) and optionally ``intro`` (Markdown) and
``issued`` (a TOML date). ``greenweb import`` reads it with the items (:func:`load_numeri`,
before the database is touched) and stores it in the import's transaction
(:func:`store_numeri`). A numero from the file has ``source = 'file'`` and is published at
import, frozen from its items as they are then.

The file is the source of its numeri, as an item's file is of the item:

- a numero as the file says already (title, introduction, date and items in order) is left
  alone, so an unchanged file changes nothing, even when its items changed since: the
  numero is frozen, and its page links their current versions;
- a numero the file says otherwise is stored again as the file says, and frozen afresh
  from its items as this import leaves them (its first publication time is kept);
- a file numero the file no longer lists is deleted;
- numeri made on the site are never touched: a file numero whose number is taken by one
  is refused, and the import with it.

Without the file, numeri are left as they are: the items import as before.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import aiosqlite

from greenweb import changes
from greenweb.bulletin.files import CONTROL, BulletinFileError, ItemSource
from greenweb.bulletin.items import ITEM_COLUMNS, item_from_row
from greenweb.bulletin.numeri import (
    MAX_ENTRIES,
    MAX_INTRO_CHARS,
    MAX_TITLE_CHARS,
    frozen_snapshots,
    write_entries,
)
from greenweb.db import fetch_all
from greenweb.markup import render_markdown

FILE_NAME: Final = "numeri.toml"
FIELDS: Final = frozenset({"number", "title", "intro", "issued", "items"})
# Far past any real bulletin, and inside SQLite's integers.
MAX_NUMBER: Final = 1_000_000


class NumeriFileError(BulletinFileError):
    """One problem in numeri.toml: the file, the field (``numero[0].items``) and what."""


@dataclass(frozen=True)
class NumeroSource:
    """One ``[[numero]]`` of the file, validated."""

    number: int
    title: str
    intro_markdown: str
    issued: date | None
    slugs: tuple[str, ...]


def _text(path: Path, table: dict[str, Any], field: str, name: str, max_len: int) -> str | None:
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise NumeriFileError(path, field, "must be a string")
    if len(value) > max_len:
        raise NumeriFileError(path, field, f"longer than {max_len} characters")
    control = CONTROL.search(value)
    if control is not None:
        raise NumeriFileError(
            path, field, f"contains the control character U+{ord(control.group()):04X}"
        )
    return value.strip()


def _number(path: Path, table: dict[str, Any], field: str) -> int:
    value = table.get("number")
    if value is None:
        raise NumeriFileError(path, field, "missing")
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_NUMBER:
        raise NumeriFileError(path, field, f"must be a whole number from 1 to {MAX_NUMBER}")
    return value


def _issued(path: Path, table: dict[str, Any], field: str) -> date | None:
    value = table.get("issued")
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise NumeriFileError(path, field, "must be a TOML date such as 2021-09-01")
    return value


def _slugs(path: Path, table: dict[str, Any], field: str, known: set[str]) -> tuple[str, ...]:
    value = table.get("items")
    if value is None:
        raise NumeriFileError(path, field, "missing")
    if not isinstance(value, list) or not value:
        raise NumeriFileError(path, field, "must be a non-empty list of item slugs")
    if len(value) > MAX_ENTRIES:
        raise NumeriFileError(path, field, f"more than {MAX_ENTRIES} items")
    seen: set[str] = set()
    for slug in value:
        if not isinstance(slug, str):
            raise NumeriFileError(path, field, "must be a list of item slugs (strings)")
        if slug not in known:
            raise NumeriFileError(path, field, f"unknown slug {slug!r}")
        if slug in seen:
            raise NumeriFileError(path, field, f"{slug!r} is listed twice")
        seen.add(slug)
    return tuple(value)


def _numero(path: Path, index: int, table: Any, known: set[str]) -> NumeroSource:
    where = f"numero[{index}]"
    if not isinstance(table, dict):
        raise NumeriFileError(path, where, "must be a [[numero]] table")
    unknown = sorted(set(table) - FIELDS)
    if unknown:
        raise NumeriFileError(path, f"{where}.{unknown[0]}", "unknown field")
    number = _number(path, table, f"{where}.number")
    title = _text(path, table, f"{where}.title", "title", MAX_TITLE_CHARS)
    if not title:
        raise NumeriFileError(path, f"{where}.title", "missing")
    if "\n" in title:
        raise NumeriFileError(path, f"{where}.title", "must be one line")
    intro = _text(path, table, f"{where}.intro", "intro", MAX_INTRO_CHARS) or ""
    return NumeroSource(
        number=number,
        title=title,
        intro_markdown=intro,
        issued=_issued(path, table, f"{where}.issued"),
        slugs=_slugs(path, table, f"{where}.items", known),
    )


def parse_numeri(path: Path, text: str, known_slugs: set[str]) -> list[NumeroSource]:
    """Validate the file's text against the slugs of the items imported with it; raise
    NumeriFileError naming the first bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise NumeriFileError(path, "file", f"invalid TOML: {error}") from None
    unknown = sorted(set(data) - {"numero"})
    if unknown:
        raise NumeriFileError(path, unknown[0], "unknown field (numeri are [[numero]] tables)")
    tables = data.get("numero", [])
    if not isinstance(tables, list):
        raise NumeriFileError(path, "numero", "must be [[numero]] tables")
    numeri = [_numero(path, index, table, known_slugs) for index, table in enumerate(tables)]
    seen: set[int] = set()
    for index, numero in enumerate(numeri):
        if numero.number in seen:
            raise NumeriFileError(
                path, f"numero[{index}].number", f"numero {numero.number} is listed twice"
            )
        seen.add(numero.number)
    return numeri


async def load_numeri(
    directory: Path, items: Sequence[ItemSource], conn: aiosqlite.Connection
) -> list[NumeroSource] | None:
    """The numeri of ``directory/numeri.toml``, checked against ``items`` (the directory's)
    and against the numeri made on the site (read on ``conn``); None without the file."""
    path = directory / FILE_NAME
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise NumeriFileError(path, "encoding", "the file is not valid UTF-8") from None
    except OSError as error:
        raise NumeriFileError(path, "file", f"cannot be read: {error.strerror}") from None
    numeri = parse_numeri(path, text, {item.slug for item in items})
    site_made = await _site_made(conn)
    for index, numero in enumerate(numeri):
        if numero.number in site_made:
            raise NumeriFileError(
                path,
                f"numero[{index}].number",
                f"numero {numero.number} was made on the site; give the file's another number",
            )
    return numeri


async def _site_made(conn: aiosqlite.Connection) -> set[int]:
    rows = await fetch_all(conn, "SELECT number FROM bulletin_numero WHERE source = 'site'")
    return {row["number"] for row in rows}


async def _stored_as(conn: aiosqlite.Connection) -> dict[int, tuple[Any, ...]]:
    """What each stored file numero says, in the terms of :func:`_says` (a deleted item's
    slug reads as None: its entry no longer says what the file does)."""
    numeri = await fetch_all(
        conn,
        "SELECT number, title, intro_markdown, issued FROM bulletin_numero WHERE source = 'file'",
    )
    entries = await fetch_all(
        conn,
        "SELECT e.number, i.slug FROM bulletin_numero_entry e "
        "JOIN bulletin_numero n ON n.number = e.number AND n.source = 'file' "
        "LEFT JOIN bulletin_item i ON i.id = e.item_id ORDER BY e.number, e.position",
    )
    slugs: dict[int, list[str | None]] = {row["number"]: [] for row in numeri}
    for row in entries:
        slugs[row["number"]].append(row["slug"])
    return {
        row["number"]: (
            row["title"],
            row["intro_markdown"],
            row["issued"],
            tuple(slugs[row["number"]]),
        )
        for row in numeri
    }


def _says(numero: NumeroSource) -> tuple[Any, ...]:
    issued = None if numero.issued is None else numero.issued.isoformat()
    return (numero.title, numero.intro_markdown, issued, numero.slugs)


async def store_numeri(
    conn: aiosqlite.Connection, numeri: Sequence[NumeroSource] | None, now: str
) -> list[int]:
    """Make the file numeri equal to ``numeri`` (None: no file, leave them), inside the
    import's transaction and after its items are stored; the numbers added, changed or
    removed. ``now`` is the import's UTC ISO time."""
    if numeri is None:
        return []
    stored = await _stored_as(conn)
    site_made = await _site_made(conn)
    touched: list[int] = []
    for numero in numeri:
        # Checked by load_numeri already; a numero made on the site since is still never
        # overwritten.
        if numero.number in site_made or stored.get(numero.number) == _says(numero):
            continue
        await _store(conn, numero, now)
        touched.append(numero.number)
    wanted = {numero.number for numero in numeri}
    for number in sorted(set(stored) - wanted):
        await conn.execute("DELETE FROM bulletin_numero WHERE number = ?", (number,))
        touched.append(number)
    if touched:
        await changes.record(conn, changes.NUMERI)
    return sorted(touched)


async def _store(conn: aiosqlite.Connection, numero: NumeroSource, now: str) -> None:
    marks = ", ".join("?" * len(numero.slugs))
    rows = await fetch_all(
        conn, f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE slug IN ({marks})", numero.slugs
    )
    by_slug = {row["slug"]: item_from_row(row) for row in rows}
    entries = await frozen_snapshots(conn, [by_slug[slug] for slug in numero.slugs])
    intro_html = render_markdown(numero.intro_markdown) if numero.intro_markdown else ""
    await conn.execute(
        "INSERT INTO bulletin_numero (number, title, intro_markdown, intro_html, issued, state, "
        "published_at, source, updated_at) VALUES (?, ?, ?, ?, ?, 'published', ?, 'file', ?) "
        "ON CONFLICT (number) DO UPDATE SET title = excluded.title, "
        "intro_markdown = excluded.intro_markdown, intro_html = excluded.intro_html, "
        "issued = excluded.issued, updated_at = excluded.updated_at",
        (
            numero.number,
            numero.title,
            numero.intro_markdown,
            intro_html,
            None if numero.issued is None else numero.issued.isoformat(),
            now,
            now,
        ),
    )
    await write_entries(conn, numero.number, entries)
