"""The bulletin: items read from Markdown files, imported into SQLite, queried for pages.

A file is TOML front matter between ``+++`` lines, then the Markdown body. The importer
validates every file before it touches the database, then loads them all in one
transaction, so a bad file changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from greenweb.db import Database, bump_content_version, fetch_all, fetch_one, fetch_value
from greenweb.italian import ROME
from greenweb.markup import plain_text, render_markdown, summarise
from greenweb.pagination import Page, offset_for

KINDS: dict[str, tuple[str, str]] = {
    # kind: (singular label, plural label)
    "bando": ("Bando", "Bandi"),
    "premio": ("Premio", "Premi"),
    "evento": ("Evento", "Eventi"),
    "notizia": ("Notizia", "Notizie"),
}

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$", re.IGNORECASE)
URL = re.compile(r"^https?://[^\s<>\"]+$")
TAG = re.compile(r"^[\w][\w '’-]{0,39}$")
# C0 controls other than tab and line ends: invalid in XML (the Atom feed) and in iCalendar
# text, and \x02/\x03 would pass for search-highlight markers.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

FIELDS = {
    "title",
    "slug",
    "kind",
    "position",
    "published",
    "deadline",
    "opens",
    "starts",
    "ends",
    "where",
    "organisers",
    "amount_min",
    "amount_max",
    "budget",
    "contact_email",
    "links",
    "tags",
    "author",
}

PER_PAGE = 20
# Far past any real value, and well inside SQLite's 64-bit integers (a larger TOML integer
# would fail at INSERT time instead of with a message naming the file and field).
MAX_POSITION = 1_000_000
MAX_AMOUNT = 10**12


class BulletinFileError(ValueError):
    """One problem in one bulletin file."""

    def __init__(self, path: Path | str, field_name: str, problem: str) -> None:
        self.path = str(path)
        self.field = field_name
        self.problem = problem
        super().__init__(f"{self.path}: {field_name}: {problem}")


class ImportAborted(Exception):
    """The import was refused; the database was not touched."""

    def __init__(self, errors: Sequence[BulletinFileError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass(frozen=True)
class ItemSource:
    """A validated bulletin file, ready to store."""

    path: str
    slug: str
    title: str
    kind: str
    position: int
    body_html: str
    summary: str
    search_text: str
    source_hash: str
    published: date | None = None
    deadline: date | None = None
    opens: date | None = None
    starts: date | datetime | None = None
    ends: date | datetime | None = None
    place: str | None = None
    organisers: tuple[str, ...] = ()
    amount_min: int | None = None
    amount_max: int | None = None
    budget: int | None = None
    contact_email: str | None = None
    links: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str | None = None


@dataclass(frozen=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


# --- reading files -------------------------------------------------------------------


def split_front_matter(text: str, path: Path | str) -> tuple[str, str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "+++":
        raise BulletinFileError(path, "front matter", "the file must start with a '+++' line")
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "+++":
            return "".join(lines[1:index]), "".join(lines[index + 1 :])
    raise BulletinFileError(path, "front matter", "no closing '+++' line")


def _string(path: Path, meta: dict[str, Any], name: str, *, max_len: int = 300) -> str | None:
    value = meta.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BulletinFileError(path, name, "must be a non-empty string")
    if len(value) > max_len:
        raise BulletinFileError(path, name, f"longer than {max_len} characters")
    _refuse_controls(path, name, value)
    return value.strip()


def _refuse_controls(path: Path, name: str, value: str) -> None:
    control = CONTROL.search(value)
    if control is not None:
        code = f"U+{ord(control.group()):04X}"
        raise BulletinFileError(path, name, f"contains the control character {code}")


def _date(path: Path, meta: dict[str, Any], name: str) -> date | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise BulletinFileError(path, name, f"not a date (YYYY-MM-DD): {value!r}") from None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BulletinFileError(path, name, f"must be a date such as 2021-09-06, got {value!r}")
    return value


def _when(path: Path, meta: dict[str, Any], name: str) -> date | datetime | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            raise BulletinFileError(path, name, f"not a date or date-time: {value!r}") from None
    if isinstance(value, datetime):
        # Stored as Rome wall-clock time: that is how events are announced and shown.
        if value.tzinfo is not None:
            value = value.astimezone(ROME).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return value
    raise BulletinFileError(path, name, f"must be a date or a date-time, got {value!r}")


def _amount(path: Path, meta: dict[str, Any], name: str) -> int | None:
    value = meta.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AMOUNT:
        raise BulletinFileError(
            path, name, f"must be a whole number of euro from 0 to {MAX_AMOUNT}"
        )
    return value


def _strings(path: Path, meta: dict[str, Any], name: str) -> tuple[str, ...]:
    value = meta.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BulletinFileError(path, name, "must be a list of non-empty strings")
    for v in value:
        _refuse_controls(path, name, v)
    return tuple(v.strip() for v in value)


def _as_datetime(value: date | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


def _toml_error(path: Path, raw_meta: str, error: tomllib.TOMLDecodeError) -> BulletinFileError:
    """Name the field on the line tomllib complains about, and count lines from the file's
    top (the front matter starts on line 2, after the opening +++)."""
    message = str(error)
    field_name = "front matter"
    position = _TOML_POSITION.search(message)
    if position is not None:
        line_number = int(position.group(1))
        lines = raw_meta.splitlines()
        if 1 <= line_number <= len(lines):
            key = _TOML_KEY.match(lines[line_number - 1])
            if key is not None:
                field_name = key.group(1)
        message = _TOML_POSITION.sub(
            f"(line {line_number + 1} of the file, column {position.group(2)})", message
        )
    return BulletinFileError(path, field_name, f"invalid TOML: {message}")


def parse_item(path: Path, text: str) -> ItemSource:
    """Validate one file's text; raise BulletinFileError naming the first bad field."""
    raw_meta, body = split_front_matter(text, path)
    try:
        meta = tomllib.loads(raw_meta)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(path, raw_meta, error) from None

    unknown = sorted(set(meta) - FIELDS)
    if unknown:
        raise BulletinFileError(path, unknown[0], "unknown field")

    title = _string(path, meta, "title", max_len=200)
    if title is None:
        raise BulletinFileError(path, "title", "missing")
    slug = meta.get("slug")
    if slug is None:
        raise BulletinFileError(path, "slug", "missing")
    if not isinstance(slug, str) or len(slug) > 80 or not SLUG.match(slug):
        raise BulletinFileError(
            path, "slug", "must be lowercase letters, digits and single hyphens (at most 80)"
        )
    kind = meta.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:  # a list or table is unhashable
        raise BulletinFileError(path, "kind", f"must be one of {', '.join(KINDS)}, got {kind!r}")
    position = meta.get("position")
    if (
        isinstance(position, bool)
        or not isinstance(position, int)
        or not 1 <= position <= MAX_POSITION
    ):
        raise BulletinFileError(
            path, "position", f"must be a whole number from 1 to {MAX_POSITION}"
        )

    starts, ends = _when(path, meta, "starts"), _when(path, meta, "ends")
    if ends is not None and starts is None:
        raise BulletinFileError(path, "ends", "given without starts")
    if (
        starts is not None
        and ends is not None
        and isinstance(starts, datetime) != isinstance(ends, datetime)
    ):
        # iCalendar requires DTSTART and DTEND of the same type, and "from 17:00 to the 21st"
        # is a typo more often than an intent.
        raise BulletinFileError(
            path, "ends", "must be a date-time when starts has a time, a date when it has not"
        )
    if starts is not None and ends is not None and _as_datetime(ends) < _as_datetime(starts):
        raise BulletinFileError(path, "ends", "is before starts")

    amount_min, amount_max = _amount(path, meta, "amount_min"), _amount(path, meta, "amount_max")
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        raise BulletinFileError(path, "amount_max", "is smaller than amount_min")

    email = _string(path, meta, "contact_email")
    if email is not None and not EMAIL.match(email):
        raise BulletinFileError(path, "contact_email", f"not an e-mail address: {email!r}")
    links = _strings(path, meta, "links")
    for link in links:
        if not URL.match(link):
            raise BulletinFileError(path, "links", f"not an http(s) URL: {link!r}")
    tags = tuple(dict.fromkeys(t.lower() for t in _strings(path, meta, "tags")))
    for tag in tags:
        if not TAG.match(tag):
            raise BulletinFileError(path, "tags", f"not a valid tag: {tag!r}")

    if not body.strip():
        raise BulletinFileError(path, "body", "the item has no text after the front matter")
    _refuse_controls(path, "body", body)
    body_html = render_markdown(body)
    text_only = plain_text(body_html)
    first_paragraph = plain_text(body_html.split("</p>", 1)[0]) if "<p>" in body_html else ""
    return ItemSource(
        path=str(path),
        slug=slug,
        title=title,
        kind=kind,
        position=position,
        body_html=body_html,
        summary=summarise(first_paragraph or text_only),
        search_text=text_only,
        source_hash=hashlib.sha256(text.encode()).hexdigest(),
        published=_date(path, meta, "published"),
        deadline=_date(path, meta, "deadline"),
        opens=_date(path, meta, "opens"),
        starts=starts,
        ends=ends,
        place=_string(path, meta, "where"),
        organisers=_strings(path, meta, "organisers"),
        amount_min=amount_min,
        amount_max=amount_max,
        budget=_amount(path, meta, "budget"),
        contact_email=email,
        links=links,
        tags=tags,
        author=_string(path, meta, "author"),
    )


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


# --- storing ---------------------------------------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def import_items(db: Database, items: Sequence[ItemSource]) -> ImportReport:
    """Make the stored bulletin equal to ``items``, in one transaction."""
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
        report = ImportReport(added=added, updated=updated, removed=removed, unchanged=unchanged)
        if report.changed:
            await bump_content_version(conn)
    return report


async def import_directory(db: Database, directory: Path) -> ImportReport:
    return await import_items(db, load_directory(directory))


# --- reading for pages -------------------------------------------------------------------


def _parse_when(value: str | None) -> date | datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)


def _parse_date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


@dataclass(frozen=True)
class Item:
    id: int
    slug: str
    title: str
    kind: str
    position: int
    summary: str
    body_html: str
    updated_at: datetime
    published: date | None = None
    deadline: date | None = None
    opens: date | None = None
    starts: date | datetime | None = None
    ends: date | datetime | None = None
    place: str | None = None
    organisers: tuple[str, ...] = ()
    amount_min: int | None = None
    amount_max: int | None = None
    budget: int | None = None
    contact_email: str | None = None
    links: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str | None = None

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][0]

    @property
    def start_day(self) -> date | None:
        if isinstance(self.starts, datetime):
            return self.starts.date()
        return self.starts

    def days_left(self, today: date) -> int | None:
        return None if self.deadline is None else (self.deadline - today).days

    def is_open(self, today: date) -> bool:
        return self.deadline is not None and self.deadline >= today

    def is_upcoming(self, today: date) -> bool:
        day = self.start_day
        return day is not None and day >= today


ITEM_COLUMNS = (
    "id, slug, title, kind, position, summary, body_html, updated_at, published, deadline, "
    "opens, starts, ends, place, organisers, amount_min, amount_max, budget, contact_email, "
    "links, author, (SELECT group_concat(tag, char(31)) FROM "
    "(SELECT tag FROM bulletin_tag t WHERE t.item_id = bulletin_item.id ORDER BY tag)) AS tags"
)
ORDER = "published IS NULL, published DESC, position"


def item_from_row(row: sqlite3.Row) -> Item:
    tags = row["tags"]
    return Item(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        kind=row["kind"],
        position=row["position"],
        summary=row["summary"],
        body_html=row["body_html"],
        updated_at=datetime.fromisoformat(row["updated_at"]),
        published=_parse_date(row["published"]),
        deadline=_parse_date(row["deadline"]),
        opens=_parse_date(row["opens"]),
        starts=_parse_when(row["starts"]),
        ends=_parse_when(row["ends"]),
        place=row["place"],
        organisers=tuple(json.loads(row["organisers"])),
        amount_min=row["amount_min"],
        amount_max=row["amount_max"],
        budget=row["budget"],
        contact_email=row["contact_email"],
        links=tuple(json.loads(row["links"])),
        tags=tuple(tags.split("\x1f")) if tags else (),
        author=row["author"],
    )


async def _items(conn: aiosqlite.Connection, sql: str, params: Any = ()) -> list[Item]:
    return [item_from_row(row) for row in await fetch_all(conn, sql, params)]


async def list_items(
    conn: aiosqlite.Connection,
    *,
    kind: str | None = None,
    tag: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Page[Item]:
    where, params = ["1"], []
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if tag is not None:
        where.append("id IN (SELECT item_id FROM bulletin_tag WHERE tag = ?)")
        params.append(tag)
    condition = " AND ".join(where)
    total = await fetch_value(conn, f"SELECT count(*) FROM bulletin_item WHERE {condition}", params)
    items = await _items(
        conn,
        f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE {condition} ORDER BY {ORDER} "
        "LIMIT ? OFFSET ?",
        [*params, per_page, offset_for(page, per_page)],
    )
    return Page(items=items, number=page, per_page=per_page, total=int(total))


async def get_item(conn: aiosqlite.Connection, slug: str) -> Item | None:
    row = await fetch_one(conn, f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE slug = ?", (slug,))
    return None if row is None else item_from_row(row)


async def latest_items(conn: aiosqlite.Connection, limit: int) -> list[Item]:
    return await _items(
        conn, f"SELECT {ITEM_COLUMNS} FROM bulletin_item ORDER BY {ORDER} LIMIT ?", (limit,)
    )


@dataclass(frozen=True)
class TwoRunPage:
    """A page of a list made of two runs: open then closed calls, upcoming then past events.

    ``page`` numbers the whole list; ``first`` and ``second`` are this page's share of each
    run, so a page can end one run and begin the other.
    """

    page: Page[Item]
    first: list[Item]
    second: list[Item]
    first_total: int


_OPEN = "deadline >= :today"
_CLOSED = "deadline < :today"
_UPCOMING = "kind = 'evento' AND starts >= :today"
_PAST = "kind = 'evento' AND starts < :today"


async def _run(
    conn: aiosqlite.Connection, where: str, order: str, today: date, limit: int, offset: int
) -> list[Item]:
    return await _items(
        conn,
        f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE {where} ORDER BY {order} "
        "LIMIT :limit OFFSET :offset",
        {"today": today.isoformat(), "limit": limit, "offset": offset},
    )


async def _two_runs(
    conn: aiosqlite.Connection,
    today: date,
    first: tuple[str, str],
    second: tuple[str, str],
    page: int,
    per_page: int,
) -> TwoRunPage:
    # Two indexed queries instead of one ORDER BY over a CASE: a deep page stays as cheap
    # as the first, whatever the number of items.
    params = {"today": today.isoformat()}
    first_total = int(
        await fetch_value(conn, f"SELECT count(*) FROM bulletin_item WHERE {first[0]}", params)
    )
    second_total = int(
        await fetch_value(conn, f"SELECT count(*) FROM bulletin_item WHERE {second[0]}", params)
    )
    offset = offset_for(page, per_page)
    head: list[Item] = []
    if offset < first_total:
        head = await _run(conn, *first, today, per_page, offset)
    tail: list[Item] = []
    if len(head) < per_page:
        tail = await _run(conn, *second, today, per_page - len(head), max(0, offset - first_total))
    whole = Page(
        items=head + tail, number=page, per_page=per_page, total=first_total + second_total
    )
    return TwoRunPage(page=whole, first=head, second=tail, first_total=first_total)


async def deadlines_page(
    conn: aiosqlite.Connection, today: date, page: int = 1, per_page: int = PER_PAGE
) -> TwoRunPage:
    """Open deadlines soonest first, then passed ones most recent first."""
    return await _two_runs(
        conn,
        today,
        (_OPEN, "deadline, position"),
        (_CLOSED, "deadline DESC, position"),
        page,
        per_page,
    )


async def events_page(
    conn: aiosqlite.Connection, today: date, page: int = 1, per_page: int = PER_PAGE
) -> TwoRunPage:
    """Upcoming events soonest first, then past ones most recent first."""
    return await _two_runs(
        conn,
        today,
        (_UPCOMING, "starts, position"),
        (_PAST, "starts DESC, position"),
        page,
        per_page,
    )


async def open_calls(conn: aiosqlite.Connection, today: date, limit: int = 50) -> list[Item]:
    """Items whose deadline is today or later, soonest first."""
    return await _run(conn, _OPEN, "deadline, position", today, limit, 0)


async def upcoming_events(conn: aiosqlite.Connection, today: date, limit: int = 50) -> list[Item]:
    return await _run(conn, _UPCOMING, "starts, position", today, limit, 0)


async def calendar_items(conn: aiosqlite.Connection, limit: int = 200) -> list[Item]:
    """Items with an event date or a deadline for the calendar file, newest dates first.

    Bounded so the file stays small however long the bulletin grows: calendar programs
    poll it, and entries years old are of no use there.
    """
    return await _items(
        conn,
        f"SELECT {ITEM_COLUMNS} FROM bulletin_item "
        "WHERE starts IS NOT NULL OR deadline IS NOT NULL "
        "ORDER BY max(coalesce(starts, ''), coalesce(deadline, '')) DESC, position LIMIT ?",
        (limit,),
    )


async def all_slugs(conn: aiosqlite.Connection) -> list[tuple[str, datetime]]:
    rows = await fetch_all(conn, f"SELECT slug, updated_at FROM bulletin_item ORDER BY {ORDER}")
    return [(row["slug"], datetime.fromisoformat(row["updated_at"])) for row in rows]


async def tag_counts(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
    rows = await fetch_all(
        conn, "SELECT tag, count(*) AS n FROM bulletin_tag GROUP BY tag ORDER BY n DESC, tag"
    )
    return [(row["tag"], row["n"]) for row in rows]


async def count_items(conn: aiosqlite.Connection) -> int:
    return int(await fetch_value(conn, "SELECT count(*) FROM bulletin_item"))


# --- search -----------------------------------------------------------------------------

MAX_QUERY_CHARS = 200
_WORD = re.compile(r"\w+", re.UNICODE)
# Control characters that snippet() places around matches; they cannot occur in stored text
# because the text comes from rendered HTML, and the template turns them into <mark>.
MARK_START, MARK_END = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    item: Item
    snippet: str  # plain text with MARK_START/MARK_END around matched words


def fts_query(text: str) -> str | None:
    """Turn what a person typed into a safe FTS5 query: every word, as a prefix."""
    words = _WORD.findall(text)[:12]
    if not words:
        return None
    return " ".join(f'"{word}"*' for word in words)


async def search(
    conn: aiosqlite.Connection, text: str, *, page: int = 1, per_page: int = PER_PAGE
) -> Page[SearchHit]:
    query = fts_query(text)
    if query is None:
        return Page(items=[], number=page, per_page=per_page, total=0)
    total = await fetch_value(
        conn, "SELECT count(*) FROM bulletin_search WHERE bulletin_search MATCH ?", (query,)
    )
    rows = await fetch_all(
        conn,
        f"SELECT {ITEM_COLUMNS}, hit.snippet FROM ("
        "  SELECT rowid, snippet(bulletin_search, 1, ?, ?, '…', 24) AS snippet, rank"
        "  FROM bulletin_search WHERE bulletin_search MATCH ? ORDER BY rank LIMIT ? OFFSET ?"
        ") AS hit JOIN bulletin_item ON bulletin_item.id = hit.rowid ORDER BY hit.rank",
        (MARK_START, MARK_END, query, per_page, offset_for(page, per_page)),
    )
    hits = [SearchHit(item=item_from_row(row), snippet=row["snippet"]) for row in rows]
    return Page(items=hits, number=page, per_page=per_page, total=int(total))
