"""A bulletin item: its kinds, its facts, and how a stored row becomes an Item."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

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


@dataclass(frozen=True, kw_only=True)
class Item(ItemFacts):
    """A stored item, as the pages, feeds and calendar read it."""

    id: int
    updated_at: datetime

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


def item_from_row(row: sqlite3.Row) -> Item:
    """The Item of a row selected with ITEM_COLUMNS."""
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
        published=_day(row["published"]),
        deadline=_day(row["deadline"]),
        opens=_day(row["opens"]),
        starts=_day_or_time(row["starts"]),
        ends=_day_or_time(row["ends"]),
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
