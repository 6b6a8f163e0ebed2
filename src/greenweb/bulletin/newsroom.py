"""The newsroom's items: written on the site, saved as drafts, published now or at a time,
edited with every revision kept, and withdrawn.

An item's fields are checked by :func:`greenweb.bulletin.files.check_item`, the importer's
own check: the form's text becomes the front matter a file would have. Every save moves the
item's ``revision`` by one and keeps a row in ``bulletin_revision``; a save that names an
older revision than the stored one is refused (:class:`StaleRevision`), so two editors never
overwrite each other silently.

An item made on the site has no file: ``source_file`` is ``''``. An imported item edited on
the site gets ``edited_on_site = 1``, and ``greenweb import`` leaves it alone.

Only published items are in the search index and on public pages. A scheduled item becomes
published at ``publish_at`` through :func:`publish_due`, which the app runs before it serves
a request once that time has come (``web/middleware/schedule.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import aiosqlite

from greenweb import changes
from greenweb.bulletin.files import FIELDS, BulletinFileError, ItemSource, check_item
from greenweb.db import fetch_all, fetch_one, fetch_value
from greenweb.italian import ROME
from greenweb.markup import plain_text, slugify
from greenweb.pagination import Page, offset_for

DRAFT: Final = "draft"
SCHEDULED: Final = "scheduled"
PUBLISHED: Final = "published"
WITHDRAWN: Final = "withdrawn"
STATES: Final = (DRAFT, SCHEDULED, PUBLISHED, WITHDRAWN)

# The form's fields: every front-matter field but the bulletin position (a new item goes
# last), in the files' order, then "body", the Markdown.
FORM_FIELDS: Final = (*(name for name in FIELDS if name != "position"), "body")
_LINES: Final = ("organisers", "links")  # one value per line
_AMOUNTS: Final = ("amount_min", "amount_max", "budget")
# The label the form is known by in error messages (the importer says the file's path).
FORM: Final = "redazione"
# Who wrote the revision that stands for an item as its file said, before its first edit.
IMPORT_EDITOR: Final = "greenweb import"
PER_PAGE: Final = 20


class NewsroomError(ValueError):
    """A save the newsroom refuses; ``field`` names the form's field (or ""), in Italian."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class StaleRevision(NewsroomError):
    """The form was made from an older revision than the stored one."""

    def __init__(self) -> None:
        super().__init__(
            "",
            "Qualcun altro ha salvato questa notizia mentre la modificavi: il tuo testo è qui "
            "sotto, ricarica la notizia in un'altra scheda e riporta le tue modifiche.",
        )


@dataclass(frozen=True)
class EditorItem:
    """An item as the newsroom's lists and forms see it."""

    id: int
    slug: str
    title: str
    kind: str
    state: str
    publish_at: datetime | None
    revision: int
    updated_at: datetime
    made_on_site: bool
    edited_on_site: bool

    @property
    def slug_locked(self) -> bool:
        """An address stays once visitors may have seen it (published, withdrawn, or a file's)."""
        return self.state in (PUBLISHED, WITHDRAWN) or not self.made_on_site


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Revision:
    revision: int
    editor: str
    saved_at: datetime
    action: str
    changes: tuple[FieldChange, ...]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def empty_form() -> dict[str, str]:
    values = dict.fromkeys(FORM_FIELDS, "")
    values["kind"] = "notizia"
    return values


def form_values(form: Mapping[str, str | None]) -> dict[str, str]:
    """The form's fields as text, line ends made ``\\n`` (browsers send ``\\r\\n``); an
    empty address is proposed from the title."""
    values = {}
    for name in FORM_FIELDS:
        raw = form.get(name) or ""
        values[name] = raw.replace("\r\n", "\n").replace("\r", "\n")
    if not values["slug"].strip():
        values["slug"] = propose_slug(values["title"])
    return values


def _front_matter(values: Mapping[str, str], position: int) -> dict[str, Any]:
    """What a file's front matter would say for this form: empty fields are absent."""
    meta: dict[str, Any] = {"position": position}
    for name in FORM_FIELDS:
        if name == "body":
            continue
        text = values.get(name, "").strip()
        if not text:
            continue
        if name in _LINES:
            meta[name] = [line.strip() for line in text.split("\n") if line.strip()]
        elif name == "tags":
            meta[name] = [tag.strip() for tag in text.split(",") if tag.strip()]
        elif name in _AMOUNTS:
            digits = text.replace(".", "").replace(" ", "")
            # ASCII digits only, and few of them: int() takes other scripts' digits and
            # refuses strings of thousands of digits.
            if not (digits.isascii() and digits.isdigit() and len(digits) <= 15):
                raise BulletinFileError(
                    FORM, name, "not a whole number", "Scrivi un numero intero di euro, senza €."
                )
            meta[name] = int(digits)
        else:
            meta[name] = text
    assert set(meta) <= set(FIELDS)
    return meta


def check_form(values: Mapping[str, str], position: int) -> ItemSource:
    """The item the form describes, checked by the importer's own check.

    Raises NewsroomError naming the form's field, with the Italian message.
    """
    try:
        meta = _front_matter(values, position)
        return check_item(FORM, meta, values.get("body", ""), source_hash="")
    except BulletinFileError as error:
        raise NewsroomError(error.field, error.italian) from None


def propose_slug(title: str) -> str:
    return slugify(title)


def _item_from_row(row: aiosqlite.Row) -> EditorItem:
    return EditorItem(
        id=row["id"],
        slug=row["slug"],
        title=row["title"],
        kind=row["kind"],
        state=row["state"],
        publish_at=None if row["publish_at"] is None else datetime.fromisoformat(row["publish_at"]),
        revision=row["revision"],
        updated_at=datetime.fromisoformat(row["updated_at"]),
        made_on_site=row["source_file"] == "",
        edited_on_site=bool(row["edited_on_site"]),
    )


_EDITOR_COLUMNS: Final = (
    "id, slug, title, kind, state, publish_at, revision, updated_at, source_file, edited_on_site"
)


async def list_items(
    conn: aiosqlite.Connection, state: str, page: int = 1, per_page: int = PER_PAGE
) -> Page[EditorItem]:
    """One state's items, the most recently saved first."""
    total = await fetch_value(conn, "SELECT count(*) FROM bulletin_item WHERE state = ?", (state,))
    rows = await fetch_all(
        conn,
        f"SELECT {_EDITOR_COLUMNS} FROM bulletin_item WHERE state = ? "
        "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
        (state, per_page, offset_for(page, per_page)),
    )
    return Page(
        items=[_item_from_row(row) for row in rows],
        number=page,
        per_page=per_page,
        total=int(total),
    )


async def state_counts(conn: aiosqlite.Connection) -> dict[str, int]:
    rows = await fetch_all(conn, "SELECT state, count(*) AS n FROM bulletin_item GROUP BY state")
    counts = dict.fromkeys(STATES, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


async def get_item(conn: aiosqlite.Connection, item_id: int) -> EditorItem | None:
    row = await fetch_one(
        conn, f"SELECT {_EDITOR_COLUMNS} FROM bulletin_item WHERE id = ?", (item_id,)
    )
    return None if row is None else _item_from_row(row)


def _text(value: str | None) -> str:
    return value or ""


def _when_text(value: str | None) -> str:
    """A stored date or Rome time as the form shows it: ``2021-05-20T17:00``, no seconds."""
    if value and "T" in value and value.endswith(":00") and len(value) == 19:
        return value[:16]
    return _text(value)


async def stored_form(conn: aiosqlite.Connection, item_id: int) -> dict[str, str] | None:
    """The form's text for a stored item; None when its Markdown was never stored (a row
    imported before the newsroom existed: ``greenweb import`` fills it)."""
    row = await fetch_one(conn, "SELECT * FROM bulletin_item WHERE id = ?", (item_id,))
    if row is None or row["body_markdown"] is None:
        return None
    tags = await fetch_all(
        conn, "SELECT tag FROM bulletin_tag WHERE item_id = ? ORDER BY tag", (item_id,)
    )
    values = {
        "title": row["title"],
        "slug": row["slug"],
        "kind": row["kind"],
        "published": _text(row["published"]),
        "deadline": _text(row["deadline"]),
        "opens": _text(row["opens"]),
        "starts": _when_text(row["starts"]),
        "ends": _when_text(row["ends"]),
        "where": _text(row["place"]),
        "organisers": "\n".join(json.loads(row["organisers"])),
        "amount_min": _text(None if row["amount_min"] is None else str(row["amount_min"])),
        "amount_max": _text(None if row["amount_max"] is None else str(row["amount_max"])),
        "budget": _text(None if row["budget"] is None else str(row["budget"])),
        "contact_email": _text(row["contact_email"]),
        "links": "\n".join(json.loads(row["links"])),
        "tags": ", ".join(tag["tag"] for tag in tags),
        "author": _text(row["author"]),
        "body": row["body_markdown"],
    }
    return values


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def item_columns(item: ItemSource, body_markdown: str) -> dict[str, Any]:
    """The ``bulletin_item`` columns an item's fields fill: the same for a save on the site
    and for ``greenweb import``."""
    return {
        "slug": item.slug,
        "title": item.title,
        "kind": item.kind,
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
        "body_markdown": body_markdown,
    }


async def _index(conn: aiosqlite.Connection, item_id: int, item: ItemSource | None) -> None:
    """Keep the search index to published items: ``item`` None takes this one out."""
    await _search_entry(conn, item_id, None if item is None else (item.title, item.search_text))


async def _search_entry(
    conn: aiosqlite.Connection, item_id: int, entry: tuple[str, str] | None
) -> None:
    """Make the item's search entry (title, plain text) this one, or none."""
    await conn.execute("DELETE FROM bulletin_search WHERE rowid = ?", (item_id,))
    if entry is not None:
        await conn.execute(
            "INSERT INTO bulletin_search (rowid, title, body) VALUES (?, ?, ?)",
            (item_id, *entry),
        )


async def _index_stored(conn: aiosqlite.Connection, item_id: int) -> None:
    row = await fetch_one(
        conn, "SELECT title, body_html FROM bulletin_item WHERE id = ?", (item_id,)
    )
    assert row is not None
    await _search_entry(conn, item_id, (row["title"], plain_text(row["body_html"])))


async def keep_revision(
    conn: aiosqlite.Connection,
    item_id: int,
    revision: int,
    *,
    editor: str,
    action: str,
    values: Mapping[str, str],
    now: datetime,
) -> None:
    """Keep ``values`` (the form's fields) as revision ``revision`` of the item."""
    await conn.execute(
        "INSERT INTO bulletin_revision (item_id, revision, editor, saved_at, action, fields) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            item_id,
            revision,
            editor,
            now.isoformat(),
            action,
            json.dumps(dict(values), ensure_ascii=False, sort_keys=True),
        ),
    )


async def _slug_taken(conn: aiosqlite.Connection, slug: str, item_id: int | None) -> bool:
    row = await fetch_one(
        conn, "SELECT 1 FROM bulletin_item WHERE slug = ? AND id IS NOT ?", (slug, item_id)
    )
    return row is not None


def _rome_day(moment: datetime) -> str:
    return moment.astimezone(ROME).date().isoformat()


# What each action does to the item's state: (new state, revision's action).
ACTIONS: Final = {
    "bozza": DRAFT,
    "programma": SCHEDULED,
    "pubblica": PUBLISHED,
    "modifica": PUBLISHED,
}
_REVISION_ACTION: Final = {
    "bozza": "bozza",
    "programma": "programmato",
    "pubblica": "pubblicato",
    "modifica": "modificato",
}


def allowed_actions(item: EditorItem | None) -> tuple[str, ...]:
    """The buttons of an item's form, by its state (a new item is a draft to be)."""
    state = DRAFT if item is None else item.state
    if state == PUBLISHED:
        return ("modifica", "ritira")
    if state == WITHDRAWN:
        return ("bozza", "pubblica")
    return ("bozza", "pubblica", "programma")


async def save(
    conn: aiosqlite.Connection,
    *,
    item_id: int | None,
    expected_revision: int | None,
    values: Mapping[str, str],
    action: str,
    editor: str,
    now: datetime,
    publish_at: datetime | None = None,
) -> int:
    """Store the form as a new item or a new revision, inside the caller's transaction.

    ``action``: ``bozza``, ``programma`` (with ``publish_at``, in the future), ``pubblica``
    or ``modifica`` (a published item stays published). Returns the item's id.
    Raises NewsroomError (nothing stored) for an invalid field, a taken or locked address,
    an action the item's state does not allow, or a stale form.
    """
    current = None if item_id is None else await get_item(conn, item_id)
    if item_id is not None and current is None:
        raise NewsroomError("", "Questa notizia non esiste più.")
    if action not in allowed_actions(current) or action not in ACTIONS:
        raise NewsroomError("", "Questa azione non è possibile per lo stato della notizia.")
    if current is not None and expected_revision != current.revision:
        raise StaleRevision()
    if current is not None and current.slug_locked and values.get("slug") != current.slug:
        raise NewsroomError(
            "slug", "L'indirizzo non cambia più dopo la prima pubblicazione: rimettilo com'era."
        )
    if action == "programma":
        if publish_at is None:
            raise NewsroomError("publish_at", "Indica giorno e ora della pubblicazione.")
        if publish_at <= now:
            raise NewsroomError("publish_at", "Scegli un momento futuro, o pubblica ora.")
    state = ACTIONS[action]
    values = dict(values)
    if state in (PUBLISHED, SCHEDULED) and not values.get("published", "").strip():
        # The date visitors see is the day it appears, in Rome.
        values["published"] = _rome_day(publish_at if state == SCHEDULED and publish_at else now)
    position = await _position(conn, item_id)
    item = check_form(values, position)
    if await _slug_taken(conn, item.slug, item_id):
        raise NewsroomError("slug", "Questo indirizzo è già usato da un'altra notizia.")

    columns = item_columns(item, values["body"])
    columns.update(
        {
            "state": state,
            "publish_at": _iso(publish_at if state == SCHEDULED else now)
            if state in (SCHEDULED, PUBLISHED)
            else None,
            "updated_at": now.isoformat(),
        }
    )
    if current is not None and current.state == PUBLISHED and state == PUBLISHED:
        # An edit keeps the time of the first publication.
        del columns["publish_at"]
    if current is None:
        columns.update(
            {
                "position": position,
                "source_file": "",
                "source_hash": "",
                "revision": 1,
                "edited_on_site": 1,
            }
        )
        names = ", ".join(columns)
        placeholders = ", ".join(f":{name}" for name in columns)
        cursor = await conn.execute(
            f"INSERT INTO bulletin_item ({names}) VALUES ({placeholders})", columns
        )
        assert cursor.lastrowid is not None
        item_id, revision = cursor.lastrowid, 1
    else:
        assert item_id is not None
        if not await fetch_value(
            conn, "SELECT count(*) FROM bulletin_revision WHERE item_id = ?", (item_id,)
        ):
            # An imported item's first edit: keep what its file said as the first revision.
            before = await stored_form(conn, item_id)
            if before is not None:
                await keep_revision(
                    conn,
                    item_id,
                    current.revision,
                    editor=IMPORT_EDITOR,
                    action="importato",
                    values=before,
                    now=current.updated_at,
                )
        revision = current.revision + 1
        columns.update({"revision": revision, "edited_on_site": 1})
        assignments = ", ".join(f"{name} = :{name}" for name in columns)
        cursor = await conn.execute(
            f"UPDATE bulletin_item SET {assignments} WHERE id = :id AND revision = :expected",
            {**columns, "id": item_id, "expected": current.revision},
        )
        if cursor.rowcount != 1:
            raise StaleRevision()
        await conn.execute("DELETE FROM bulletin_tag WHERE item_id = ?", (item_id,))
    await conn.executemany(
        "INSERT INTO bulletin_tag (item_id, tag) VALUES (?, ?)",
        [(item_id, tag) for tag in item.tags],
    )
    await _index(conn, item_id, item if state == PUBLISHED else None)
    await keep_revision(
        conn,
        item_id,
        revision,
        editor=editor,
        action=_REVISION_ACTION[action],
        values=values,
        now=now,
    )
    public = state == PUBLISHED or (current is not None and current.state == PUBLISHED)
    # A draft changes no public page; a schedule changes when one will (the app re-reads
    # the next due time whenever the write sequence moves).
    await changes.record(conn, changes.BULLETIN if public else changes.SCHEDULE)
    return item_id


async def _position(conn: aiosqlite.Connection, item_id: int | None) -> int:
    """An item's place in the bulletin's order among undated items: a new one goes last."""
    if item_id is not None:
        stored = await fetch_value(
            conn, "SELECT position FROM bulletin_item WHERE id = ?", (item_id,)
        )
        if stored is not None:
            return int(stored)
    last = await fetch_value(conn, "SELECT max(position) FROM bulletin_item")
    return int(last or 0) + 1


async def withdraw(
    conn: aiosqlite.Connection,
    item_id: int,
    *,
    expected_revision: int,
    editor: str,
    now: datetime,
) -> None:
    """Take a published item off the public pages (its address answers 410)."""
    current = await get_item(conn, item_id)
    if current is None:
        raise NewsroomError("", "Questa notizia non esiste più.")
    if current.state != PUBLISHED:
        raise NewsroomError("", "Si può ritirare solo una notizia pubblicata.")
    if expected_revision != current.revision:
        raise StaleRevision()
    values = await stored_form(conn, item_id)
    revision = current.revision + 1
    await conn.execute(
        "UPDATE bulletin_item SET state = ?, revision = ?, edited_on_site = 1, updated_at = ? "
        "WHERE id = ?",
        (WITHDRAWN, revision, now.isoformat(), item_id),
    )
    await _index(conn, item_id, None)
    await keep_revision(
        conn,
        item_id,
        revision,
        editor=editor,
        action="ritirato",
        values=values or {},
        now=now,
    )
    await changes.record(conn, changes.BULLETIN)


async def revisions(conn: aiosqlite.Connection, item_id: int) -> list[Revision]:
    """Every kept revision, newest first, each with what it changed from the one before."""
    rows = await fetch_all(
        conn,
        "SELECT revision, editor, saved_at, action, fields FROM bulletin_revision "
        "WHERE item_id = ? ORDER BY revision",
        (item_id,),
    )
    kept: list[Revision] = []
    before: dict[str, str] = {}
    for row in rows:
        fields: dict[str, str] = json.loads(row["fields"])
        if not fields:
            fields = before
        changed = tuple(
            FieldChange(name, before.get(name, ""), fields.get(name, ""))
            for name in FORM_FIELDS
            if before.get(name, "") != fields.get(name, "")
        )
        kept.append(
            Revision(
                revision=row["revision"],
                editor=row["editor"],
                saved_at=datetime.fromisoformat(row["saved_at"]),
                action=row["action"],
                changes=changed,
            )
        )
        before = fields
    return kept[::-1]


async def next_due(conn: aiosqlite.Connection) -> datetime | None:
    """When the next scheduled item is due, if any."""
    value = await fetch_value(
        conn, "SELECT min(publish_at) FROM bulletin_item WHERE state = ?", (SCHEDULED,)
    )
    return None if value is None else datetime.fromisoformat(value)


async def publish_due(conn: aiosqlite.Connection, now: datetime) -> list[str]:
    """Publish the scheduled items whose time has come, inside the caller's transaction;
    returns their slugs. Idempotent: when several workers race, the first does the work."""
    rows = await fetch_all(
        conn,
        "SELECT id, slug FROM bulletin_item WHERE state = ? AND publish_at <= ? ORDER BY id",
        (SCHEDULED, now.isoformat()),
    )
    for row in rows:
        await conn.execute(
            "UPDATE bulletin_item SET state = ? WHERE id = ?", (PUBLISHED, row["id"])
        )
        await _index_stored(conn, row["id"])
    if rows:
        await changes.record(conn, changes.BULLETIN)
    return [row["slug"] for row in rows]
