"""Every public list of the bulletin is one range of one index, already in order.

The queries are the ones the functions really run (read back through SQLite's trace
callback, parameters bound), so a new condition or order in ``bulletin/queries.py`` is held
to its plan here; migration 0009 says why the indexes are led by the item's state.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date

import pytest

from greenweb.bulletin import queries
from greenweb.config import Settings
from greenweb.db import Database, with_database

TODAY = date(2021, 9, 4)

LISTS: dict[str, Callable[[Database], Awaitable[object]]] = {
    "bulletin": lambda db: queries.list_items(db.reader),
    "bulletin, deep page": lambda db: queries.list_items(db.reader, page=90),
    "bulletin by kind": lambda db: queries.list_items(db.reader, kind="bando"),
    "latest items": lambda db: queries.latest_items(db.reader, 5),
    "deadlines": lambda db: queries.deadlines_page(db.reader, TODAY, page=3),
    "events": lambda db: queries.events_page(db.reader, TODAY, page=3),
    "open calls": lambda db: queries.open_calls(db.reader, TODAY),
    "upcoming events": lambda db: queries.upcoming_events(db.reader, TODAY),
}


def statements_of(settings: Settings, work: Callable[[Database], Awaitable[object]]) -> list[str]:
    """The SELECTs on bulletin_item that ``work`` ran, as SQLite executed them."""
    seen: list[str] = []

    async def traced(db: Database) -> None:
        await db.reader.set_trace_callback(seen.append)
        await work(db)
        await db.reader.set_trace_callback(None)

    with_database(settings.db_path, traced)
    return [s for s in seen if s.lstrip().upper().startswith("SELECT") and "bulletin_item" in s]


def plan(settings: Settings, statement: str) -> list[str]:
    with sqlite3.connect(settings.db_path) as conn:
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]


@pytest.mark.parametrize("name", list(LISTS))
def test_every_public_list_walks_a_state_led_index_without_sorting_the_items(
    seeded_settings: Settings, name: str
) -> None:
    statements = statements_of(seeded_settings, LISTS[name])
    assert statements, f"{name}: no query on bulletin_item was run"
    for statement in statements:
        steps = plan(seeded_settings, statement)
        first = steps[0]
        assert first.startswith("SEARCH bulletin_item USING"), (statement, steps)
        assert "bulletin_item_public_" in first and "(state=?" in first, (statement, steps)
        # A sort of the rows that tie on the date (RIGHT PART) is fine; a sort of them all
        # is what the state-led indexes are there to avoid.
        assert "USE TEMP B-TREE FOR ORDER BY" not in steps, (statement, steps)
