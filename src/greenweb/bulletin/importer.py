"""``greenweb import``: make the stored bulletin equal to a directory of files.

Every file is read and validated before the database is touched, then all of them are
stored in one transaction, so a bad file changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from greenweb import changes
from greenweb.bulletin import numeri_file
from greenweb.bulletin.files import BulletinFileError, ItemSource, parse_item
from greenweb.db import Database, fetch_all


class ImportAborted(Exception):
    """The import was refused; the database was not touched."""

    def __init__(self, errors: Sequence[BulletinFileError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class ImportReport:
    """What an import changed, by slug, and how many items were already as their files say."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def load_directory(directory: Path) -> list[ItemSource]:
    """Read and validate every ``*.md`` file; raise ImportAborted listing all problems."""
    if not directory.is_dir():
        raise ImportAborted([BulletinFileError(directory, "directory", "not a directory")])
    # Dotfiles are editors' locks and drafts (Emacs' .#name.md is a dangling symlink).
    paths = sorted(p for p in directory.glob("*.md") if not p.name.startswith("."))
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


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def import_items(
    db: Database,
    items: Sequence[ItemSource],
    numeri: Sequence[numeri_file.NumeroSource] | None = None,
) -> ImportReport:
    """Make the stored bulletin equal to ``items`` (and the file numeri to ``numeri``, unless
    None), in one transaction."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    added: list[str] = []
    updated: list[str] = []
    unchanged = 0
    async with db.transaction() as conn:
        existing = {
            row["slug"]: (row["id"], row["source_hash"])
            for row in await fetch_all(conn, "SELECT id, slug, source_hash FROM bulletin_item")
        }
        for item in items:
            values = {
                "slug": item.slug,
                "title": item.title,
                "kind": item.kind,
                "position": item.position,
                "published": _iso(item.published),
                "deadline": _iso(item.deadline),
                "opens": _iso(item.opens),
                "starts": _iso(item.starts),
                "ends": _iso(item.ends),
                "place": item.place,
                "organisers": json.dumps(item.organisers, ensure_ascii=False),
                "amount_min": item.amount_min,
                "amount_max": item.amount_max,
                "budget": item.budget,
                "contact_email": item.contact_email,
                "links": json.dumps(item.links),
                "author": item.author,
                "summary": item.summary,
                "body_html": item.body_html,
                "source_file": Path(item.path).name,
                "source_hash": item.source_hash,
                "updated_at": now,
            }
            previous = existing.get(item.slug)
            if previous is not None and previous[1] == item.source_hash:
                unchanged += 1
                continue
            if previous is None:
                columns = ", ".join(values)
                placeholders = ", ".join(f":{name}" for name in values)
                cursor = await conn.execute(
                    f"INSERT INTO bulletin_item ({columns}) VALUES ({placeholders})", values
                )
                item_id = cursor.lastrowid
                added.append(item.slug)
            else:
                item_id = previous[0]
                assignments = ", ".join(f"{name} = :{name}" for name in values)
                await conn.execute(
                    f"UPDATE bulletin_item SET {assignments} WHERE id = :id",
                    {**values, "id": item_id},
                )
                await conn.execute("DELETE FROM bulletin_tag WHERE item_id = ?", (item_id,))
                await conn.execute("DELETE FROM bulletin_search WHERE rowid = ?", (item_id,))
                updated.append(item.slug)
            await conn.executemany(
                "INSERT INTO bulletin_tag (item_id, tag) VALUES (?, ?)",
                [(item_id, tag) for tag in item.tags],
            )
            await conn.execute(
                "INSERT INTO bulletin_search (rowid, title, body) VALUES (?, ?, ?)",
                (item_id, item.title, item.search_text),
            )
        wanted = {item.slug for item in items}
        removed = sorted(slug for slug in existing if slug not in wanted)
        for slug in removed:
            item_id = existing[slug][0]
            await conn.execute("DELETE FROM bulletin_search WHERE rowid = ?", (item_id,))
            await conn.execute("DELETE FROM bulletin_item WHERE id = ?", (item_id,))
        await numeri_file.store_numeri(conn, numeri, now)
        report = ImportReport(added=added, updated=updated, removed=removed, unchanged=unchanged)
        if report.changed:
            # The bulletin's pages only: the board shows nothing of the bulletin.
            await changes.record(conn, changes.BULLETIN)
    return report


async def import_directory(db: Database, directory: Path) -> ImportReport:
    """Store the bulletin files of ``directory``, or raise ImportAborted and store nothing."""
    items = load_directory(directory)
    try:
        numeri = await numeri_file.load_numeri(directory, items, db.reader)
    except numeri_file.NumeriFileError as error:
        raise ImportAborted([error]) from None
    return await import_items(db, items, numeri)
