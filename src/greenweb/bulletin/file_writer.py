"""``greenweb bulletin export``: the published items as the files ``greenweb import`` reads.

Each item becomes ``NN-slug.md`` (its position, at least two digits, then its slug, as the
seed's files are named): ``+++``, its front matter in TOML, ``+++``, then its Markdown
exactly as stored. The front matter holds only the fields the item has, one a line, in
:data:`FIELD_ORDER` (title, slug, kind, position, then the dates, place, people, amounts,
contact, links, tags and author, as the newsroom's form lists them);
tags are sorted, as the database keeps them. The same items always give the same bytes,
and importing the files gives the same items back.

Rows imported before the Markdown was stored (``body_markdown`` NULL) cannot be written:
the export is refused, naming them, until ``greenweb import`` fills them in. Drafts,
scheduled and withdrawn items are the newsroom's own and stay out.

The files are written atomically, as ``greenweb export`` writes the site's: each to a hidden
name in the folder first, then all renamed into place once every one is written, so a
failed export leaves the folder as it was, and a reader never sees half a file. (Nothing is
synced to disk: an export is remade at will from the database.)
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import aiosqlite

from greenweb.bulletin.files import FIELDS
from greenweb.bulletin.importer import bulletin_paths
from greenweb.bulletin.items import ITEM_COLUMNS, Item, item_from_row
from greenweb.db import fetch_all

# The front matter's fields in the order a file lists them.
FIELD_ORDER: Final = FIELDS
# The Item's attribute for each front-matter field whose name differs.
_ATTRIBUTE: Final = {"where": "place"}
# TOML basic strings: these escaped by name; every other control character, and the
# invisible characters that reorder or hide text (C1 controls, bidirectional marks and
# overrides), as \uXXXX, so that what a reader of the file sees is what it says.
_SHORT_ESCAPES: Final = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_INVISIBLE: Final = (
    *range(0x20),
    *range(0x7F, 0xA0),
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
)
_STRING_ESCAPES: Final = str.maketrans(
    {
        **{chr(code): f"\\u{code:04X}" for code in _INVISIBLE},
        **_SHORT_ESCAPES,
    }
)
# Hidden (import skips dot files) until the whole export is written.
STAGED_SUFFIX: Final = ".greenweb-new"


class ExportRefused(Exception):
    """The export cannot be done as asked; nothing was written."""


class MissingMarkdown(ExportRefused):
    """Published items whose Markdown was never stored (imported before it was kept)."""

    def __init__(self, slugs: Sequence[str]) -> None:
        self.slugs = list(slugs)
        super().__init__(
            f"{len(self.slugs)} published items have no Markdown stored, imported before it "
            f"was kept: {', '.join(self.slugs)}; run greenweb import first"
        )


@dataclass(frozen=True)
class ItemFile:
    """One bulletin file: its name in the folder and its text."""

    name: str
    text: str


@dataclass(frozen=True)
class LeftOut:
    """An item the export does not write, and its state."""

    slug: str
    state: str


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote (file names), left out, and removed (file names)."""

    written: list[str]
    left_out: list[LeftOut]
    removed: list[str]


def toml_value(value: str | int | date | tuple[str, ...]) -> str:
    """``value`` as TOML: a basic string, an integer, a bare date or local date-time, or an
    array of strings."""
    if isinstance(value, str):
        return '"' + value.translate(_STRING_ESCAPES) + '"'
    if isinstance(value, bool):
        raise TypeError("no front-matter field is a boolean")
    if isinstance(value, int | date):  # a datetime is a date
        return str(value) if isinstance(value, int) else value.isoformat()
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


def front_matter(item: Item) -> str:
    """The TOML lines of ``item``'s fields, in FIELD_ORDER, without the fields it lacks."""
    lines = []
    for name in FIELD_ORDER:
        value = getattr(item, _ATTRIBUTE.get(name, name))
        if value is None or value == ():
            continue
        lines.append(f"{name} = {toml_value(value)}\n")
    return "".join(lines)


def item_file(item: Item, body_markdown: str) -> ItemFile:
    """The file ``greenweb import`` reads back as ``item``."""
    return ItemFile(
        name=f"{item.position:02d}-{item.slug}.md",
        text=f"+++\n{front_matter(item)}+++\n{body_markdown}",
    )


async def item_files(conn: aiosqlite.Connection) -> tuple[list[ItemFile], list[LeftOut]]:
    """The file of every published item, in the bulletin's order of positions, and the
    items left out; raises MissingMarkdown naming the published items it cannot write."""
    # One statement: one snapshot, even while the site writes.
    rows = await fetch_all(
        conn,
        f"SELECT {ITEM_COLUMNS}, state, body_markdown FROM bulletin_item ORDER BY position, slug",
    )
    files: list[ItemFile] = []
    left_out: list[LeftOut] = []
    missing: list[str] = []
    for row in rows:
        if row["state"] != "published":
            left_out.append(LeftOut(row["slug"], row["state"]))
        elif row["body_markdown"] is None:
            missing.append(row["slug"])
        else:
            files.append(item_file(item_from_row(row), row["body_markdown"]))
    if missing:
        raise MissingMarkdown(missing)
    if not files:
        raise ExportRefused("no published items to export")
    return files, left_out


def check_directory(directory: Path, *, overwrite: bool) -> None:
    """Refuse a ``directory`` the export must not write into (ExportRefused)."""
    if directory.exists() and not directory.is_dir():
        raise ExportRefused(f"{directory}: not a directory")
    if not overwrite and directory.is_dir() and any(directory.iterdir()):
        raise ExportRefused(
            f"{directory}: not empty; choose an empty or new folder, or add --overwrite"
        )


def write_files(directory: Path, files: Sequence[ItemFile], *, overwrite: bool) -> list[str]:
    """Make ``directory`` hold ``files`` and no other bulletin file; returns the names of
    the bulletin files removed (with ``overwrite``, those of an earlier export that this
    one has not: left there, an import would bring their items back). Other files stay."""
    check_directory(directory, overwrite=overwrite)
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for file in files:
            target = directory / file.name
            hidden = target.with_name(f".{file.name}{STAGED_SUFFIX}")
            with hidden.open("w", encoding="utf-8", newline="") as out:
                staged.append((hidden, target))
                out.write(file.text)
    except BaseException:
        for hidden, _ in staged:
            hidden.unlink(missing_ok=True)
        raise
    for hidden, target in staged:
        os.replace(hidden, target)
    names = {file.name for file in files}
    removed = sorted(p.name for p in bulletin_paths(directory) if p.name not in names)
    for name in removed:
        (directory / name).unlink()
    return removed


async def export_bulletin(
    conn: aiosqlite.Connection, directory: Path, *, overwrite: bool = False
) -> ExportReport:
    """Write every published item into ``directory`` (empty or new, unless ``overwrite``);
    raises ExportRefused, with nothing written, when it cannot."""
    check_directory(directory, overwrite=overwrite)
    files, left_out = await item_files(conn)
    removed = write_files(directory, files, overwrite=overwrite)
    return ExportReport(written=[file.name for file in files], left_out=left_out, removed=removed)
