"""The bulletin's lists for pages, feeds and the calendar: by kind and tag, deadlines,
events, and the counts and slugs other pages need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import aiosqlite

from greenweb.bulletin.items import ITEM_COLUMNS, Item, item_from_row
from greenweb.db import fetch_all, fetch_one, fetch_value
from greenweb.pagination import Page, offset_for

PER_PAGE = 20
# What visitors see: drafts, scheduled and withdrawn items are the newsroom's own.
PUBLIC = "state = 'published'"
# The bulletin's own order: dated items newest first, then the undated by position.
ORDER = "published IS NULL, published DESC, position"


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
    where, params = [PUBLIC], []
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
    """The published item with this slug."""
    row = await fetch_one(
        conn, f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE slug = ? AND {PUBLIC}", (slug,)
    )
    return None if row is None else item_from_row(row)


async def is_withdrawn(conn: aiosqlite.Connection, slug: str) -> bool:
    """Whether this slug was a published item the newsroom took off (its address is 410)."""
    row = await fetch_one(
        conn, "SELECT 1 FROM bulletin_item WHERE slug = ? AND state = 'withdrawn'", (slug,)
    )
    return row is not None


async def latest_items(conn: aiosqlite.Connection, limit: int) -> list[Item]:
    return await _items(
        conn,
        f"SELECT {ITEM_COLUMNS} FROM bulletin_item WHERE {PUBLIC} ORDER BY {ORDER} LIMIT ?",
        (limit,),
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


_OPEN = f"deadline >= :today AND {PUBLIC}"
_CLOSED = f"deadline < :today AND {PUBLIC}"
_UPCOMING = f"kind = 'evento' AND starts >= :today AND {PUBLIC}"
_PAST = f"kind = 'evento' AND starts < :today AND {PUBLIC}"


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
        f"WHERE (starts IS NOT NULL OR deadline IS NOT NULL) AND {PUBLIC} "
        "ORDER BY max(coalesce(starts, ''), coalesce(deadline, '')) DESC, position LIMIT ?",
        (limit,),
    )


async def all_slugs(conn: aiosqlite.Connection) -> list[tuple[str, datetime]]:
    rows = await fetch_all(
        conn, f"SELECT slug, updated_at FROM bulletin_item WHERE {PUBLIC} ORDER BY {ORDER}"
    )
    return [(row["slug"], datetime.fromisoformat(row["updated_at"])) for row in rows]


async def tag_counts(conn: aiosqlite.Connection) -> list[tuple[str, int]]:
    rows = await fetch_all(
        conn,
        "SELECT tag, count(*) AS n FROM bulletin_tag JOIN bulletin_item ON id = item_id "
        f"WHERE {PUBLIC} GROUP BY tag ORDER BY n DESC, tag",
    )
    return [(row["tag"], row["n"]) for row in rows]


async def count_items(conn: aiosqlite.Connection) -> int:
    return int(await fetch_value(conn, f"SELECT count(*) FROM bulletin_item WHERE {PUBLIC}"))
