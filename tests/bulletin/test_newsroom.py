"""The newsroom's writes: the importer's check on the form, revisions kept, stale forms
refused, scheduling and withdrawal, and public pages showing published items only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from greenweb.bulletin import newsroom, queries
from greenweb.bulletin.newsroom import NewsroomError, StaleRevision
from greenweb.config import Settings
from greenweb.db import Database, fetch_value, with_database
from support import import_seed, make_settings
from support.board import query

T = TypeVar("T")
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def in_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    return with_database(settings.db_path, work)


def form(**fields: str) -> dict[str, str]:
    values = newsroom.empty_form()
    values.update({"title": "Bando per le reti di quartiere", "slug": "reti-di-quartiere"})
    values.update({"body": "Un bando per le reti.\n\nSecondo paragrafo."})
    values.update(fields)
    return values


def save(settings: Settings, values: dict[str, str], action: str = "bozza", **kw: object) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await newsroom.save(
                conn,
                item_id=kw.get("item_id"),  # type: ignore[arg-type]
                expected_revision=kw.get("revision"),  # type: ignore[arg-type]
                values=values,
                action=action,
                editor="bea",
                now=kw.get("now", NOW),  # type: ignore[arg-type]
                publish_at=kw.get("publish_at"),  # type: ignore[arg-type]
            )

    return in_db(settings, work)


def count(settings: Settings, table: str) -> int:
    return int(query(settings, f"SELECT count(*) FROM {table}")[0][0])


def public_slugs(settings: Settings) -> list[str]:
    async def work(db: Database) -> list[str]:
        page = await queries.list_items(db.reader)
        return [item.slug for item in page.items]

    return in_db(settings, work)


def test_a_draft_is_stored_but_shown_on_no_public_page(settings: Settings) -> None:
    item_id = save(settings, form())
    assert query(settings, "SELECT state, revision, source_file FROM bulletin_item") == [
        ("draft", 1, "")
    ]
    assert public_slugs(settings) == []
    assert count(settings, "bulletin_search") == 0
    assert query(
        settings, "SELECT action, editor FROM bulletin_revision WHERE item_id = ?", (item_id,)
    ) == [("bozza", "bea")]


def test_publishing_now_shows_the_item_dated_today_in_rome(settings: Settings) -> None:
    save(settings, form(), "pubblica", now=datetime(2026, 12, 1, 23, 30, tzinfo=UTC))
    assert public_slugs(settings) == ["reti-di-quartiere"]
    # 23:30 UTC is already the 2nd in Rome.
    assert query(settings, "SELECT published FROM bulletin_item") == [("2026-12-02",)]
    assert count(settings, "bulletin_search") == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("deadline", "31/12/2026"),
        ("kind", "sagra"),
        ("slug", "Non Valido"),
        ("links", "javascript:alert(1)"),
        ("amount_min", "mille"),
        ("title", ""),
        ("body", "   "),
        ("ends", "2026-12-01"),
    ],
)
def test_an_invalid_field_is_named_in_italian_and_stores_nothing(
    settings: Settings, field: str, value: str
) -> None:
    with pytest.raises(NewsroomError) as refused:
        save(settings, form(**{field: value}))
    assert refused.value.field == field
    assert refused.value.message
    assert count(settings, "bulletin_item") == 0
    assert count(settings, "bulletin_revision") == 0


def test_a_duplicate_slug_is_refused_and_stores_nothing(settings: Settings) -> None:
    save(settings, form())
    with pytest.raises(NewsroomError) as refused:
        save(settings, form(title="Un altro"))
    assert refused.value.field == "slug"
    assert count(settings, "bulletin_item") == 1


def test_editing_a_published_item_keeps_every_revision_with_its_diff(settings: Settings) -> None:
    item_id = save(settings, form(), "pubblica")
    save(
        settings,
        form(title="Bando per le reti (prorogato)"),
        "modifica",
        item_id=item_id,
        revision=1,
    )

    kept = in_db(settings, lambda db: newsroom.revisions(db.reader, item_id))
    assert [(r.revision, r.action) for r in kept] == [(2, "modificato"), (1, "pubblicato")]
    assert [(c.field, c.before, c.after) for c in kept[0].changes] == [
        ("title", "Bando per le reti di quartiere", "Bando per le reti (prorogato)")
    ]
    assert query(settings, "SELECT state, revision FROM bulletin_item") == [("published", 2)]


def test_a_stale_form_is_refused_and_changes_nothing(settings: Settings) -> None:
    item_id = save(settings, form())
    save(settings, form(title="Prima modifica"), item_id=item_id, revision=1)
    with pytest.raises(StaleRevision):
        save(settings, form(title="Seconda, da un modulo vecchio"), item_id=item_id, revision=1)
    assert query(settings, "SELECT title, revision FROM bulletin_item") == [("Prima modifica", 2)]
    assert count(settings, "bulletin_revision") == 2


def test_the_address_is_locked_after_the_first_publication(settings: Settings) -> None:
    item_id = save(settings, form())
    save(settings, form(slug="nuovo-indirizzo"), item_id=item_id, revision=1)
    save(settings, form(slug="nuovo-indirizzo"), "pubblica", item_id=item_id, revision=2)
    with pytest.raises(NewsroomError) as refused:
        save(settings, form(slug="altro"), "modifica", item_id=item_id, revision=3)
    assert refused.value.field == "slug"


def test_a_scheduled_item_appears_only_when_published_at_its_time(settings: Settings) -> None:
    at = NOW + timedelta(hours=2)
    save(settings, form(), "programma", publish_at=at)
    assert public_slugs(settings) == []
    assert in_db(settings, lambda db: newsroom.next_due(db.reader)) == at

    async def publish(db: Database, moment: datetime) -> list[str]:
        async with db.transaction() as conn:
            return await newsroom.publish_due(conn, moment)

    assert in_db(settings, lambda db: publish(db, at - timedelta(seconds=1))) == []
    assert in_db(settings, lambda db: publish(db, at)) == ["reti-di-quartiere"]
    assert in_db(settings, lambda db: publish(db, at)) == []
    assert public_slugs(settings) == ["reti-di-quartiere"]
    assert in_db(settings, lambda db: newsroom.next_due(db.reader)) is None


def test_scheduling_in_the_past_is_refused(settings: Settings) -> None:
    with pytest.raises(NewsroomError) as refused:
        save(settings, form(), "programma", publish_at=NOW - timedelta(minutes=1))
    assert refused.value.field == "publish_at"
    assert count(settings, "bulletin_item") == 0


def test_withdrawing_takes_the_item_off_public_pages_and_is_recorded(settings: Settings) -> None:
    item_id = save(settings, form(), "pubblica")

    async def withdraw(db: Database) -> None:
        async with db.transaction() as conn:
            await newsroom.withdraw(conn, item_id, expected_revision=1, editor="bea", now=NOW)

    in_db(settings, withdraw)
    assert public_slugs(settings) == []
    assert in_db(settings, lambda db: queries.is_withdrawn(db.reader, "reti-di-quartiere"))
    assert count(settings, "bulletin_search") == 0
    kept = in_db(settings, lambda db: newsroom.revisions(db.reader, item_id))
    assert kept[0].action == "ritirato"


def test_the_first_edit_of_an_imported_item_keeps_its_file_as_a_revision(
    settings: Settings,
) -> None:
    import_seed(settings)
    (item_id, revision) = query(
        settings, "SELECT id, revision FROM bulletin_item WHERE slug = 'horizon-europe'"
    )[0]
    values = in_db(settings, lambda db: newsroom.stored_form(db.reader, item_id))
    assert values is not None
    edited = {**values, "title": "Horizon Europe (aggiornato)"}
    save(settings, edited, "modifica", item_id=item_id, revision=revision)
    kept = in_db(settings, lambda db: newsroom.revisions(db.reader, item_id))
    assert [r.action for r in kept] == ["modificato", "importato"]
    assert query(settings, "SELECT edited_on_site FROM bulletin_item WHERE id = ?", (item_id,)) == [
        (1,)
    ]


def test_a_form_of_an_item_reads_back_as_it_was_saved(settings: Settings) -> None:
    values = form(
        organisers="Comune di Torino\nCircolo del Design",
        links="https://example.org/a\nhttps://example.org/b",
        tags="clima, reti",
        amount_min="1500",
        starts="2026-12-10T17:00",
        ends="2026-12-10T19:00",
        kind="evento",
    )
    item_id = save(settings, values)
    stored = in_db(settings, lambda db: newsroom.stored_form(db.reader, item_id))
    assert stored == values


def test_a_new_item_goes_after_every_position(settings: Settings) -> None:
    import_seed(settings)
    save(settings, form())
    last = in_db(
        settings, lambda db: fetch_value(db.reader, "SELECT max(position) FROM bulletin_item")
    )
    assert query(
        settings, "SELECT position FROM bulletin_item WHERE slug = 'reti-di-quartiere'"
    ) == [(last,)]


def test_an_empty_address_is_proposed_from_the_title() -> None:
    values = newsroom.form_values({"title": "Città e clima: 3 idee!", "slug": ""})
    assert values["slug"] == "citta-e-clima-3-idee"
    assert newsroom.form_values({"title": "Città", "slug": "mia"})["slug"] == "mia"
