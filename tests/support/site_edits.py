"""Items written, edited and withdrawn on the site, through the newsroom's own functions,
for the tests of what files and imports do with them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import aiosqlite

from greenweb.bulletin import newsroom
from greenweb.config import Settings
from greenweb.db import Database, fetch_value, with_database

T = TypeVar("T")
# After every seed and benchmark date: a save dates nothing the tests compare.
EDITED_AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
EDITOR = "bea"


def _in_transaction(settings: Settings, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    async def run(db: Database) -> T:
        async with db.transaction() as conn:
            return await work(conn)

    return with_database(settings.db_path, run)


async def _item_id(conn: aiosqlite.Connection, slug: str) -> int:
    item_id = await fetch_value(conn, "SELECT id FROM bulletin_item WHERE slug = ?", (slug,))
    assert item_id is not None, f"no item {slug!r}"
    return int(item_id)


def revision_of(settings: Settings, slug: str) -> int:
    """The revision an editor's form opened now would carry."""

    async def work(conn: aiosqlite.Connection) -> int:
        item = await newsroom.get_item(conn, await _item_id(conn, slug))
        assert item is not None
        return item.revision

    return _in_transaction(settings, work)


def edit_on_site(
    settings: Settings, slug: str, *, revision: int | None = None, **fields: str
) -> None:
    """Save the published item ``slug`` on the site with ``fields`` changed in its form
    (made from ``revision``, by default the current one)."""

    async def work(conn: aiosqlite.Connection) -> None:
        item_id = await _item_id(conn, slug)
        item = await newsroom.get_item(conn, item_id)
        values = await newsroom.stored_form(conn, item_id)
        assert item is not None and values is not None
        values.update(fields)
        await newsroom.save(
            conn,
            item_id=item_id,
            expected_revision=item.revision if revision is None else revision,
            values=values,
            action="modifica",
            editor=EDITOR,
            now=EDITED_AT,
        )

    _in_transaction(settings, work)


def write_on_site(settings: Settings, action: str = "pubblica", **fields: str) -> None:
    """A new item written on the site (``action``: bozza, pubblica, or programma for a year
    after EDITED_AT); ``fields`` fill the form (title, slug and body have defaults)."""
    values = newsroom.empty_form()
    values.update(
        {
            "title": "Una notizia scritta sul sito",
            "slug": "scritta-sul-sito",
            "body": "Scritta nella redazione.\n\nSecondo paragrafo.",
        }
    )
    values.update(fields)
    publish_at = EDITED_AT + timedelta(days=365) if action == "programma" else None

    async def work(conn: aiosqlite.Connection) -> None:
        await newsroom.save(
            conn,
            item_id=None,
            expected_revision=None,
            values=values,
            action=action,
            editor=EDITOR,
            now=EDITED_AT,
            publish_at=publish_at,
        )

    _in_transaction(settings, work)


def withdraw_on_site(settings: Settings, slug: str) -> None:
    async def work(conn: aiosqlite.Connection) -> None:
        item_id = await _item_id(conn, slug)
        item = await newsroom.get_item(conn, item_id)
        assert item is not None
        await newsroom.withdraw(
            conn, item_id, expected_revision=item.revision, editor=EDITOR, now=EDITED_AT
        )

    _in_transaction(settings, work)
