"""``greenweb import``: make the stored bulletin equal to a directory of files, except
where editors have worked on the site.

Every file is read and validated before the database is touched, then all of them are
stored in one transaction, so a bad file changes nothing.

The site's work is never lost to an import:

- an item made on the site has no file: its ``source_file`` is ``''`` (the newsroom stores
  it so). The import never removes it, whichever files the directory holds;
- an item saved on the site since its last import has ``edited_on_site = 1``. The import
  neither overwrites nor removes it, and reports it as skipped (or kept, when its file is
  gone); with ``force`` its file overwrites it (its edits stay in ``bulletin_revision``),
  and an edited item whose file is gone is still kept.

Every item the import adds or updates is published, has ``edited_on_site = 0`` and moves
its ``revision`` by one, so a form an editor opened on the earlier version is refused as
stale instead of saving over the file's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from greenweb import changes
from greenweb.bulletin import numeri_file
from greenweb.bulletin.files import BulletinFileError, ItemSource, parse_item
from greenweb.bulletin.newsroom import (
    IMPORT_EDITOR,
    PUBLISHED,
    item_columns,
    keep_revision,
    stored_form,
)
from greenweb.db import Database, fetch_all, fetch_value


class ImportAborted(Exception):
    """The import was refused; the database was not touched."""

    def __init__(self, errors: Sequence[BulletinFileError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class ImportReport:
    """What an import changed, by slug, and how many items were already as their files say
    (and which numeri numeri.toml changed).

        ``skipped``: items edited on the site that the import left as they are, although the
        directory has a file for them; ``overwritten``: those a forced import overwrote (they
        are in ``updated`` too); ``kept``: items edited on the site whose file is gone, which
        no import removes.
    """

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    overwritten: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # The numbers of the numeri that numeri.toml added, changed or removed.
    numeri: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def bulletin_paths(directory: Path) -> list[Path]:
    """The bulletin files of ``directory``, sorted: its ``*.md`` files but dotfiles."""
    # Dotfiles are editors' locks and drafts (Emacs' .#name.md is a dangling symlink).
    return sorted(p for p in directory.glob("*.md") if not p.name.startswith("."))


def load_directory(directory: Path) -> list[ItemSource]:
    """Read and validate every ``*.md`` file; raise ImportAborted listing all problems."""
    if not directory.is_dir():
        raise ImportAborted([BulletinFileError(directory, "directory", "not a directory")])
    paths = bulletin_paths(directory)
    if not paths:
        raise ImportAborted([BulletinFileError(directory, "directory", "no .md files found")])
    errors: list[BulletinFileError] = []
    items: list[ItemSource] = []
    seen: dict[str, str] = {}
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            item = parse_item(path, text)
        except UnicodeDecodeError:
            errors.append(BulletinFileError(path, "encoding", "the file is not valid UTF-8"))
            continue
        except OSError as error:
            errors.append(BulletinFileError(path, "file", f"cannot be read: {error.strerror}"))
            continue
        except BulletinFileError as error:
            errors.append(error)
            continue
        if item.slug in seen:
            errors.append(
                BulletinFileError(path, "slug", f"{item.slug!r} is also used by {seen[item.slug]}")
            )
            continue
        seen[item.slug] = str(path)
        items.append(item)
    if errors:
        raise ImportAborted(errors)
    return items


@dataclass(frozen=True)
class _Stored:
    id: int
    source_file: str
    source_hash: str
    revision: int
    edited_on_site: bool
    has_markdown: bool

    @property
    def made_on_site(self) -> bool:
        return self.source_file == ""


async def _stored_items(conn: aiosqlite.Connection) -> dict[str, _Stored]:
    rows = await fetch_all(
        conn,
        "SELECT id, slug, source_file, source_hash, revision, edited_on_site, "
        "body_markdown IS NOT NULL AS has_markdown FROM bulletin_item",
    )
    return {
        row["slug"]: _Stored(
            id=row["id"],
            source_file=row["source_file"],
            source_hash=row["source_hash"],
            revision=row["revision"],
            edited_on_site=bool(row["edited_on_site"]),
            has_markdown=bool(row["has_markdown"]),
        )
        for row in rows
    }


def _file_columns(item: ItemSource, now: datetime) -> dict[str, Any]:
    """Every column an import sets: the item as its file says, published, not edited."""
    return {
        **item_columns(item, item.body_markdown),
        "position": item.position,
        "source_file": Path(item.path).name,
        "source_hash": item.source_hash,
        "updated_at": now.isoformat(),
        "state": PUBLISHED,
        "edited_on_site": 0,
    }


async def _index(conn: aiosqlite.Connection, item_id: int, item: ItemSource) -> None:
    await conn.executemany(
        "INSERT INTO bulletin_tag (item_id, tag) VALUES (?, ?)",
        [(item_id, tag) for tag in item.tags],
    )
    await conn.execute(
        "INSERT INTO bulletin_search (rowid, title, body) VALUES (?, ?, ?)",
        (item_id, item.title, item.search_text),
    )


async def _insert(conn: aiosqlite.Connection, item: ItemSource, now: datetime) -> None:
    columns = _file_columns(item, now)
    names = ", ".join(columns)
    placeholders = ", ".join(f":{name}" for name in columns)
    cursor = await conn.execute(
        f"INSERT INTO bulletin_item ({names}) VALUES ({placeholders})", columns
    )
    assert cursor.lastrowid is not None
    await _index(conn, cursor.lastrowid, item)


async def _update(
    conn: aiosqlite.Connection, stored: _Stored, item: ItemSource, now: datetime
) -> None:
    revision = stored.revision + 1
    columns = _file_columns(item, now)
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    await conn.execute(
        f"UPDATE bulletin_item SET {assignments}, revision = :revision WHERE id = :id",
        {**columns, "revision": revision, "id": stored.id},
    )
    await conn.execute("DELETE FROM bulletin_tag WHERE item_id = ?", (stored.id,))
    await conn.execute("DELETE FROM bulletin_search WHERE rowid = ?", (stored.id,))
    await _index(conn, stored.id, item)
    if await fetch_value(
        conn, "SELECT count(*) FROM bulletin_revision WHERE item_id = ?", (stored.id,)
    ):
        # An item with a history on the site keeps the file's version in it too, so its
        # revisions show what the import changed. (An item never edited has no history
        # yet: its first save on the site keeps the file's version then.)
        values = await stored_form(conn, stored.id)
        assert values is not None  # just stored, with its Markdown
        await keep_revision(
            conn,
            stored.id,
            revision,
            editor=IMPORT_EDITOR,
            action="importato",
            values=values,
            now=now,
        )


async def _store_items(
    conn: aiosqlite.Connection, items: Sequence[ItemSource], *, force: bool, now: datetime
) -> ImportReport:
    report = ImportReport()
    existing = await _stored_items(conn)
    unchanged = 0
    for item in items:
        stored = existing.get(item.slug)
        if stored is None:
            await _insert(conn, item, now)
            report.added.append(item.slug)
        elif stored.edited_on_site and not force:
            report.skipped.append(item.slug)
        elif (
            not stored.edited_on_site
            and stored.has_markdown
            and stored.source_hash == item.source_hash
        ):
            unchanged += 1
        else:
            # Rows imported before the Markdown was kept are updated to get it.
            await _update(conn, stored, item, now)
            report.updated.append(item.slug)
            if stored.edited_on_site:
                report.overwritten.append(item.slug)
    wanted = {item.slug for item in items}
    for slug, stored in sorted(existing.items()):
        if slug in wanted or stored.made_on_site:
            continue
        if stored.edited_on_site:
            report.kept.append(slug)
            continue
        await conn.execute("DELETE FROM bulletin_search WHERE rowid = ?", (stored.id,))
        await conn.execute("DELETE FROM bulletin_item WHERE id = ?", (stored.id,))
        report.removed.append(slug)
    return replace(report, unchanged=unchanged)


async def import_items(
    db: Database,
    items: Sequence[ItemSource],
    numeri: Sequence[numeri_file.NumeroSource] | None = None,
    *,
    force: bool = False,
) -> ImportReport:
    """Make the stored bulletin equal to ``items`` (and the file numeri to ``numeri``, unless
    None), in one transaction, leaving alone the items edited on the site unless ``force``
    (see the module's docstring)."""
    now = datetime.now(UTC).replace(microsecond=0)
    async with db.transaction() as conn:
        report = await _store_items(conn, items, force=force, now=now)
        touched = await numeri_file.store_numeri(conn, numeri, now.isoformat())
        report = replace(report, numeri=touched)
        if report.changed:
            # The bulletin's pages only: the board shows nothing of the bulletin.
            await changes.record(conn, changes.BULLETIN)
    return report


async def import_directory(db: Database, directory: Path, *, force: bool = False) -> ImportReport:
    """Store the bulletin files of ``directory``, or raise ImportAborted and store nothing."""
    items = load_directory(directory)
    try:
        numeri = await numeri_file.load_numeri(directory, items, db.reader)
    except numeri_file.NumeriFileError as error:
        raise ImportAborted([error]) from None
    return await import_items(db, items, numeri, force=force)
