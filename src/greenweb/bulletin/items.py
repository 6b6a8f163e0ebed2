"""A bulletin item: its kinds, its facts, and how a stored row becomes an Item."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from greenweb.db import record_from_row

KINDS: dict[str, tuple[str, str]] = {
    # kind: (singular label, plural label)
    "bando": ("Bando", "Bandi"),
    "premio": ("Premio", "Premi"),
    "evento": ("Evento", "Eventi"),
    "notizia": ("Notizia", "Notizie"),
}


@dataclass(frozen=True, kw_only=True)
class ItemFacts:
    """What a bulletin file says about an item, as the importer stores it and pages show it."""

    slug: str
    title: str
    kind: str
    position: int
    summary: str
    body_html: str
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

    # On the facts rather than the stored Item: a numero's frozen entries are facts too, and
    # the key-facts box reads these of both.
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


@dataclass(frozen=True, kw_only=True)
class Item(ItemFacts):
    """A stored item, as the pages, feeds and calendar read it."""

    id: int
    updated_at: datetime

    def is_open(self, today: date) -> bool:
        return self.deadline is not None and self.deadline >= today

    def is_upcoming(self, today: date) -> bool:
        day = self.start_day
        return day is not None and day >= today


def day_or_time(text: str) -> date | datetime:
    """ISO text of a day (``2021-05-20``) or of a wall-clock time (``2021-05-20T17:00``)."""
    return datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)


ITEM_COLUMNS = (
    "id, slug, title, kind, position, summary, body_html, updated_at, published, deadline, "
    "opens, starts, ends, place, organisers, amount_min, amount_max, budget, contact_email, "
    "links, author, (SELECT group_concat(tag, char(31)) FROM "
    "(SELECT tag FROM bulletin_tag t WHERE t.item_id = bulletin_item.id ORDER BY tag)) AS tags"
)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _day_or_time(value: str | None) -> date | datetime | None:
    return None if value is None else day_or_time(value)


def _tags(value: str | None) -> tuple[str, ...]:
    return tuple(value.split("\x1f")) if value else ()


def _json_list(value: str) -> tuple[str, ...]:
    return tuple(json.loads(value))


# How each column whose stored form is not the field's own becomes the field.
_STORED_FORMS = {
    "updated_at": datetime.fromisoformat,
    **dict.fromkeys(("published", "deadline", "opens"), _day),
    **dict.fromkeys(("starts", "ends"), _day_or_time),
    **dict.fromkeys(("organisers", "links"), _json_list),
    "tags": _tags,
}


def item_from_row(row: sqlite3.Row) -> Item:
    """The Item of a row selected with ITEM_COLUMNS."""
    return record_from_row(Item, row, _STORED_FORMS)
