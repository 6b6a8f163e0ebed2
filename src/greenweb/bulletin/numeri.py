"""Numbered issues of the bulletin (*numeri*): drafts, publication, and what pages read.

A numero is a title, an introduction in Markdown and an ordered selection of items
(``migrations/0005_newsroom.sql``). While it is a draft its entries follow their items: the
pages of the newsroom show each item as it is now. :func:`publish` freezes it: each entry
keeps a JSON snapshot of what the numero says of its item (title, kind, key facts, summary
and the item's revision), so a later edit shows on the item's page and never in the numero,
whose page links to the current version instead.

Every write here takes a connection inside ``Database.transaction()`` and records
:data:`greenweb.changes.NUMERI` in it; validation happens before anything is written, so a
refused save stores nothing. Errors are :class:`NumeroError`: the form field and an Italian
message to show beside it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal

import aiosqlite

from greenweb import changes
from greenweb.bulletin.files import CONTROL
from greenweb.bulletin.items import ITEM_COLUMNS, Item, ItemFacts, day_or_time, item_from_row
from greenweb.bulletin.queries import ORDER
from greenweb.db import fetch_all, fetch_one, fetch_value
from greenweb.italian import ROME
from greenweb.markup import plain_text, render_markdown, summarise
from greenweb.pagination import Page, offset_for

PER_PAGE: Final = 20
MAX_TITLE_CHARS: Final = 200
MAX_INTRO_CHARS: Final = 20_000
# A numero is a selection read in one sitting (the seed's has 12 items), and its page shows
# every item with its key facts: about 13 elements each, so 15 keep the page within the
# budget's 300 DOM elements (tests/web/views/test_numeri.py checks a full one).
MAX_ENTRIES: Final = 15

# The facts of an item the key-facts box shows (templates/_macros.html, key_facts): what a
# published numero keeps of each item besides its title, kind, summary and revision.
KEY_FACTS: Final = (
    "deadline",
    "opens",
    "starts",
    "ends",
    "place",
    "organisers",
    "amount_min",
    "amount_max",
    "budget",
    "contact_email",
    "links",
    "published",
)
_DAYS: Final = frozenset({"deadline", "opens", "published"})
_DAYS_OR_TIMES: Final = frozenset({"starts", "ends"})
_LISTS: Final = frozenset({"organisers", "links"})

State = Literal["draft", "published"]
Source = Literal["site", "file"]


class NumeroError(ValueError):
    """A numero that cannot be saved or published: the form ``field`` and what is wrong,
    in Italian (the newsroom shows it beside the field)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class NumeroEntry:
    """One item of a numero, as the numero shows it.

    ``facts`` is what the numero says of the item: the snapshot once published (its
    ``body_html`` is empty: a numero shows no bodies), the item as it is now in a draft.
    ``revision`` is the item's revision those facts are of. ``current_slug`` and
    ``current_revision`` are the item now, when it is published; None when it was withdrawn,
    unpublished or deleted, and the entry has no live link.
    """

    position: int
    item_id: int | None
    facts: ItemFacts
    revision: int
    current_slug: str | None
    current_revision: int | None

    @property
    def live(self) -> bool:
        return self.current_slug is not None

    @property
    def changed_since(self) -> bool:
        """The item was edited after the numero was published: link its current version."""
        return self.current_revision is not None and self.current_revision != self.revision


@dataclass(frozen=True)
class Numero:
    number: int
    title: str
    intro_markdown: str
    intro_html: str
    issued: date | None  # the date shown on the numero; None when its source gives none
    state: State
    published_at: datetime | None
    source: Source
    updated_at: datetime
    entries: tuple[NumeroEntry, ...]

    @property
    def is_published(self) -> bool:
        return self.state == "published"

    @property
    def label(self) -> str:
        """ "Numero N": what pages call it beside its title."""
        return f"Numero {self.number}"

    @property
    def count_label(self) -> str:
        count = len(self.entries)
        return f"{count} notizia" if count == 1 else f"{count} notizie"

    @property
    def summary(self) -> str:
        """A line for the archive and the feed: the introduction's start, or what it holds."""
        if self.intro_html:
            return summarise(plain_text(self.intro_html))
        return f"{self.label}: {self.count_label}."


# --- reading ----------------------------------------------------------------------------

_NUMERO_COLUMNS: Final = (
    "number, title, intro_markdown, intro_html, issued, state, published_at, source, updated_at"
)
# The live item of an entry, prefixed so that its columns do not clash with the entry's.
_LIVE_ITEM: Final = (
    "SELECT e.number, e.position, e.item_id, e.snapshot, i.slug AS live_slug, "
    "i.state AS live_state, i.revision AS live_revision "
    "FROM bulletin_numero_entry e LEFT JOIN bulletin_item i ON i.id = e.item_id "
)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def snapshot_of(item: Item, revision: int) -> dict[str, Any]:
    """What a published numero keeps of ``item``, as JSON values."""
    facts: dict[str, Any] = {}
    for name in KEY_FACTS:
        value = getattr(item, name)
        if name in _LISTS:
            value = list(value)
        elif name in _DAYS or name in _DAYS_OR_TIMES:
            value = _iso(value)
        facts[name] = value
    return {
        "slug": item.slug,
        "title": item.title,
        "kind": item.kind,
        "summary": item.summary,
        "revision": revision,
        **facts,
    }


def facts_of_snapshot(snapshot: dict[str, Any], position: int) -> ItemFacts:
    """The facts a numero's page shows, from a snapshot made by :func:`snapshot_of`."""
    facts: dict[str, Any] = {}
    for name in KEY_FACTS:
        value = snapshot.get(name)
        if value is not None and name in _DAYS:
            value = date.fromisoformat(value)
        elif value is not None and name in _DAYS_OR_TIMES:
            value = day_or_time(value)
        elif name in _LISTS:
            value = tuple(value or ())
        facts[name] = value
    return ItemFacts(
        slug=snapshot["slug"],
        title=snapshot["title"],
        kind=snapshot["kind"],
        position=position,
        summary=snapshot["summary"],
        body_html="",
        **facts,
    )


async def _live_items(
    conn: aiosqlite.Connection, ids: Iterable[int]
) -> dict[int, tuple[Item, str, int]]:
    """Each stored item of ``ids``: (item, state, revision)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    marks = ", ".join("?" * len(wanted))
    rows = await fetch_all(
        conn,
        f"SELECT {ITEM_COLUMNS}, state, revision FROM bulletin_item WHERE id IN ({marks})",
        wanted,
    )
    return {row["id"]: (item_from_row(row), row["state"], row["revision"]) for row in rows}


def _frozen_entry(row: sqlite3.Row) -> NumeroEntry:
    snapshot = json.loads(row["snapshot"])
    live = row["live_state"] == "published"
    return NumeroEntry(
        position=row["position"],
        item_id=row["item_id"],
        facts=facts_of_snapshot(snapshot, row["position"]),
        revision=int(snapshot["revision"]),
        current_slug=row["live_slug"] if live else None,
        current_revision=row["live_revision"] if live else None,
    )


async def _entries(
    conn: aiosqlite.Connection, numbers: Sequence[int]
) -> dict[int, list[NumeroEntry]]:
    """The entries of ``numbers``, in order. A draft's entry whose item is gone is left out:
    the draft follows its items, and nothing is left to show of it."""
    found: dict[int, list[NumeroEntry]] = {number: [] for number in numbers}
    if not numbers:
        return found
    marks = ", ".join("?" * len(numbers))
    rows = await fetch_all(
        conn, f"{_LIVE_ITEM} WHERE e.number IN ({marks}) ORDER BY e.number, e.position", numbers
    )
    drafts = [row for row in rows if row["snapshot"] is None]
    live = await _live_items(conn, (row["item_id"] for row in drafts if row["item_id"]))
    for row in rows:
        if row["snapshot"] is not None:
            found[row["number"]].append(_frozen_entry(row))
            continue
        stored = live.get(row["item_id"])
        if stored is None:
            continue
        item, state, revision = stored
        public = state == "published"
        found[row["number"]].append(
            NumeroEntry(
                position=row["position"],
                item_id=item.id,
                facts=item,
                revision=revision,
                current_slug=item.slug if public else None,
                current_revision=revision if public else None,
            )
        )
    return found


def _numero(row: sqlite3.Row, entries: Sequence[NumeroEntry]) -> Numero:
    issued = row["issued"]
    return Numero(
        number=row["number"],
        title=row["title"],
        intro_markdown=row["intro_markdown"],
        intro_html=row["intro_html"],
        issued=None if issued is None else date.fromisoformat(issued),
        state=row["state"],
        published_at=_time(row["published_at"]),
        source=row["source"],
        updated_at=datetime.fromisoformat(row["updated_at"]),
        entries=tuple(entries),
    )


async def _numeri(conn: aiosqlite.Connection, sql: str, params: Any = ()) -> list[Numero]:
    rows = await fetch_all(conn, sql, params)
    entries = await _entries(conn, [row["number"] for row in rows])
    return [_numero(row, entries[row["number"]]) for row in rows]


async def get_numero(
    conn: aiosqlite.Connection, number: int, *, published_only: bool = True
) -> Numero | None:
    """Numero ``number`` with its entries; None when there is none (or, with
    ``published_only``, when it is a draft: the public pages' 404)."""
    where = "number = ?" + (" AND state = 'published'" if published_only else "")
    found = await _numeri(
        conn, f"SELECT {_NUMERO_COLUMNS} FROM bulletin_numero WHERE {where}", (number,)
    )
    return found[0] if found else None


async def list_numeri(
    conn: aiosqlite.Connection,
    page: int = 1,
    per_page: int = PER_PAGE,
    *,
    published_only: bool = True,
) -> Page[Numero]:
    """Numeri newest first (the highest number first), with their entries: the public
    archive, or with ``published_only=False`` the newsroom's list, drafts included."""
    where = "state = 'published'" if published_only else "1"
    total = await fetch_value(conn, f"SELECT count(*) FROM bulletin_numero WHERE {where}")
    numeri = await _numeri(
        conn,
        f"SELECT {_NUMERO_COLUMNS} FROM bulletin_numero WHERE {where} "
        "ORDER BY number DESC LIMIT ? OFFSET ?",
        (per_page, offset_for(page, per_page)),
    )
    return Page(items=numeri, number=page, per_page=per_page, total=int(total))


async def latest_numeri(conn: aiosqlite.Connection, limit: int) -> list[Numero]:
    """The newest published numeri with their entries: the Atom feed."""
    return (await list_numeri(conn, 1, limit)).items


async def published_numbers(conn: aiosqlite.Connection) -> list[tuple[int, datetime]]:
    """(number, last change) of every published numero, newest first: sitemap and export."""
    rows = await fetch_all(
        conn,
        "SELECT number, updated_at FROM bulletin_numero WHERE state = 'published' "
        "ORDER BY number DESC",
    )
    return [(row["number"], datetime.fromisoformat(row["updated_at"])) for row in rows]


async def count_published(conn: aiosqlite.Connection) -> int:
    return int(
        await fetch_value(conn, "SELECT count(*) FROM bulletin_numero WHERE state = 'published'")
    )


async def default_selection(conn: aiosqlite.Connection, limit: int = MAX_ENTRIES) -> list[Item]:
    """What a new numero holds unless the editor chooses otherwise: the published items in
    no published numero yet (those published since the last numero), in the bulletin's order."""
    return [
        item_from_row(row)
        for row in await fetch_all(
            conn,
            f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE state = 'published' AND id NOT IN "
            "(SELECT e.item_id FROM bulletin_numero_entry e JOIN bulletin_numero n "
            "ON n.number = e.number WHERE n.state = 'published' AND e.item_id IS NOT NULL) "
            f"ORDER BY {ORDER} LIMIT ?",
            (limit,),
        )
    ]


# --- validation -------------------------------------------------------------------------


def clean_title(title: str) -> str:
    """The title as stored (outer spaces trimmed), or NumeroError("title", ...)."""
    title = title.strip()
    if not title:
        raise NumeroError("title", "Scrivi il titolo del numero.")
    if len(title) > MAX_TITLE_CHARS:
        raise NumeroError("title", f"Il titolo può avere al massimo {MAX_TITLE_CHARS} caratteri.")
    if CONTROL.search(title) or "\n" in title or "\r" in title:
        raise NumeroError("title", "Il titolo contiene caratteri di controllo: toglili.")
    return title


def clean_intro(intro_markdown: str) -> str:
    """The introduction as stored, or NumeroError("intro", ...)."""
    intro = intro_markdown.strip().replace("\r\n", "\n")
    if len(intro) > MAX_INTRO_CHARS:
        raise NumeroError(
            "intro", f"L'introduzione può avere al massimo {MAX_INTRO_CHARS} caratteri."
        )
    if CONTROL.search(intro):
        raise NumeroError("intro", "L'introduzione contiene caratteri di controllo: toglili.")
    return intro


async def check_items(conn: aiosqlite.Connection, item_ids: Sequence[int]) -> list[Item]:
    """The items of ``item_ids`` in that order, each stored, published and chosen once;
    else NumeroError("items", ...)."""
    if not item_ids:
        raise NumeroError("items", "Scegli almeno una notizia del bollettino.")
    if len(item_ids) > MAX_ENTRIES:
        raise NumeroError("items", f"Un numero può contenere al massimo {MAX_ENTRIES} notizie.")
    live = await _live_items(conn, item_ids)
    seen: set[int] = set()
    items: list[Item] = []
    for item_id in item_ids:
        stored = live.get(item_id)
        if stored is None:
            raise NumeroError("items", f"La notizia {item_id} non esiste.")
        item, state, _ = stored
        if item_id in seen:
            raise NumeroError("items", f"La notizia «{item.title}» è scelta due volte.")
        if state != "published":
            raise NumeroError("items", f"La notizia «{item.title}» non è pubblicata.")
        seen.add(item_id)
        items.append(item)
    return items


# --- writing ----------------------------------------------------------------------------


async def _row(conn: aiosqlite.Connection, number: int) -> sqlite3.Row | None:
    return await fetch_one(
        conn, f"SELECT {_NUMERO_COLUMNS} FROM bulletin_numero WHERE number = ?", (number,)
    )


async def _editable_draft(conn: aiosqlite.Connection, number: int) -> sqlite3.Row:
    row = await _row(conn, number)
    if row is None:
        raise NumeroError("number", f"Il numero {number} non esiste.")
    if row["state"] == "published":
        raise NumeroError("number", f"Il numero {number} è già pubblicato e non si modifica più.")
    return row


async def write_entries(
    conn: aiosqlite.Connection, number: int, entries: Sequence[tuple[int, str | None]]
) -> None:
    """Replace the entries of ``number`` with (item id, snapshot JSON or None), in order."""
    await conn.execute("DELETE FROM bulletin_numero_entry WHERE number = ?", (number,))
    await conn.executemany(
        "INSERT INTO bulletin_numero_entry (number, position, item_id, snapshot) "
        "VALUES (?, ?, ?, ?)",
        [
            (number, position, item_id, snapshot)
            for position, (item_id, snapshot) in enumerate(entries, 1)
        ],
    )


async def frozen_snapshots(
    conn: aiosqlite.Connection, items: Sequence[Item]
) -> list[tuple[int, str]]:
    """(item id, snapshot JSON) of each of ``items`` as stored now, for a published numero."""
    live = await _live_items(conn, (item.id for item in items))
    return [
        (item.id, json.dumps(snapshot_of(item, live[item.id][2]), ensure_ascii=False))
        for item in items
    ]


async def save_draft(
    conn: aiosqlite.Connection,
    *,
    number: int | None,
    title: str,
    intro_markdown: str,
    item_ids: Sequence[int],
    now: datetime,
) -> int:
    """Create (``number=None``: the next number) or replace a draft numero; its number.

    ``item_ids`` are the chosen items in the numero's order (:func:`default_selection`
    proposes them). Raises NumeroError, storing nothing, for a bad title or introduction, an
    unknown, unpublished or repeated item, no items, or a ``number`` that is no draft.
    ``now`` is an aware UTC time. Call inside ``Database.transaction()``.
    """
    title = clean_title(title)
    intro = clean_intro(intro_markdown)
    if number is not None:
        await _editable_draft(conn, number)
    items = await check_items(conn, item_ids)
    values = {
        "title": title,
        "intro_markdown": intro,
        "intro_html": render_markdown(intro) if intro else "",
        "updated_at": now.isoformat(),
    }
    if number is None:
        number = int(
            await fetch_value(conn, "SELECT coalesce(max(number), 0) + 1 FROM bulletin_numero")
        )
        await conn.execute(
            "INSERT INTO bulletin_numero (number, title, intro_markdown, intro_html, state, "
            "source, updated_at) VALUES (:number, :title, :intro_markdown, :intro_html, "
            "'draft', 'site', :updated_at)",
            {**values, "number": number},
        )
    else:
        await conn.execute(
            "UPDATE bulletin_numero SET title = :title, intro_markdown = :intro_markdown, "
            "intro_html = :intro_html, updated_at = :updated_at WHERE number = :number",
            {**values, "number": number},
        )
    await write_entries(conn, number, [(item.id, None) for item in items])
    await changes.record(conn, changes.NUMERI)
    return number


async def publish(conn: aiosqlite.Connection, number: int, now: datetime) -> None:
    """Publish draft ``number``: freeze what it says of each item and give it the date of
    ``now`` in Rome. Raises NumeroError, changing nothing, when it is not a draft or one of
    its items is no longer published (or was deleted). Call inside ``Database.transaction()``.
    """
    await _editable_draft(conn, number)
    rows = await fetch_all(
        conn,
        "SELECT item_id FROM bulletin_numero_entry WHERE number = ? ORDER BY position",
        (number,),
    )
    if any(row["item_id"] is None for row in rows):
        raise NumeroError(
            "items", "Una delle notizie scelte è stata eliminata: salva di nuovo la bozza."
        )
    items = await check_items(conn, [row["item_id"] for row in rows])
    await write_entries(conn, number, await frozen_snapshots(conn, items))
    stamp = now.isoformat()
    await conn.execute(
        "UPDATE bulletin_numero SET state = 'published', published_at = ?, updated_at = ?, "
        "issued = coalesce(issued, ?) WHERE number = ?",
        (stamp, stamp, now.astimezone(ROME).date().isoformat(), number),
    )
    await changes.record(conn, changes.NUMERI)


async def delete_draft(conn: aiosqlite.Connection, number: int) -> None:
    """Delete draft ``number`` (a published numero stays: NumeroError). Its number may be
    given again to the next new numero when it was the highest."""
    await _editable_draft(conn, number)
    await conn.execute("DELETE FROM bulletin_numero WHERE number = ?", (number,))
    await changes.record(conn, changes.NUMERI)
