"""Numeri: the default selection, drafts, publication that freezes what a numero says,
and validation that stores nothing."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import TypeVar

import pytest

from greenweb import changes
from greenweb.bulletin import numeri
from greenweb.bulletin.numeri import MAX_ENTRIES, MAX_TITLE_CHARS, NumeroError
from greenweb.config import Settings
from greenweb.db import Database, fetch_all, with_database
from support import SEED_DIR

T = TypeVar("T")
NOW = datetime(2021, 9, 4, 22, 30, tzinfo=UTC)  # 5 September in Rome


def seed_order() -> list[str]:
    """The seed items' slugs by their position: the bulletin's order of undated items."""
    found = []
    for path in SEED_DIR.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        position = re.search(r"^position = (\d+)$", text, re.M)
        slug = re.search(r'^slug = "(.+)"$', text, re.M)
        assert position and slug, path
        found.append((int(position.group(1)), slug.group(1)))
    return [slug for _, slug in sorted(found)]


def run(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    return with_database(settings.db_path, work)


def sql(settings: Settings, statement: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(settings.db_path)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")  # as the app's connections: deletes cascade
    try:
        rows = conn.execute(statement, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def ids(settings: Settings, *slugs: str) -> list[int]:
    by_slug = {
        row["slug"]: row["id"] for row in sql(settings, "SELECT id, slug FROM bulletin_item")
    }
    return [by_slug[slug] for slug in slugs]


def counts(settings: Settings) -> tuple[int, int, int]:
    numero = sql(settings, "SELECT count(*) FROM bulletin_numero")[0][0]
    entries = sql(settings, "SELECT count(*) FROM bulletin_numero_entry")[0][0]
    version = sql(settings, "SELECT version FROM content_version")[0][0]
    return numero, entries, version


def save(settings: Settings, number: int | None = None, **fields: object) -> int:
    values: dict[str, object] = {
        "title": "Numero di settembre",
        "intro_markdown": "",
        "item_ids": [],
    }
    values.update(fields)

    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await numeri.save_draft(conn, number=number, now=NOW, **values)  # type: ignore[arg-type]

    return run(settings, work)


def publish(settings: Settings, number: int) -> None:
    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            await numeri.publish(conn, number, NOW)

    run(settings, work)


def get(settings: Settings, number: int, published_only: bool = True) -> numeri.Numero | None:
    async def work(db: Database) -> numeri.Numero | None:
        return await numeri.get_numero(db.reader, number, published_only=published_only)

    return run(settings, work)


def default_slugs(settings: Settings) -> list[str]:
    async def work(db: Database) -> list[str]:
        return [item.slug for item in await numeri.default_selection(db.reader)]

    return run(settings, work)


async def migrated(db: Database) -> None:
    """Nothing: opening the database migrated it."""


def new_item(settings: Settings, slug: str, position: int) -> int:
    sql(
        settings,
        "INSERT INTO bulletin_item (slug, title, kind, position, summary, body_html, "
        "source_file, source_hash, updated_at) VALUES (?, ?, 'notizia', ?, 'In breve.', "
        "'<p>Testo.</p>', '', '', '2021-09-04T10:00:00+00:00')",
        (slug, f"Notizia {slug}", position),
    )
    return ids(settings, slug)[0]


def edit_on_site(settings: Settings, slug: str, title: str) -> None:
    """What the newsroom does to a published item: new text, the next revision."""
    sql(
        settings,
        "UPDATE bulletin_item SET title = ?, summary = 'Riassunto nuovo.', "
        "revision = revision + 1, edited_on_site = 1 WHERE slug = ?",
        (title, slug),
    )


# --- the seed and the default selection -------------------------------------------------


def test_the_seed_import_publishes_numero_1_with_the_twelve_items_in_bulletin_order(
    seeded_settings: Settings,
) -> None:
    numero = get(seeded_settings, 1)
    assert numero is not None
    assert (numero.title, numero.state, numero.source) == ("Numero 1", "published", "file")
    assert numero.issued is None and numero.intro_html == ""
    assert [entry.facts.slug for entry in numero.entries] == seed_order()
    assert all(entry.live and not entry.changed_since for entry in numero.entries)


def test_the_default_selection_is_published_items_in_no_published_numero(
    seeded_settings: Settings,
) -> None:
    assert default_slugs(seeded_settings) == []  # all twelve are in numero 1
    new_item(seeded_settings, "nuova-b", 14)
    new_item(seeded_settings, "nuova-a", 13)
    sql(seeded_settings, "UPDATE bulletin_item SET state = 'draft' WHERE slug = 'nuova-b'")
    new_item(seeded_settings, "nuova-c", 15)
    # A draft numero holds its items without taking them from the next selection.
    save(seeded_settings, item_ids=ids(seeded_settings, "nuova-c"))
    assert default_slugs(seeded_settings) == ["nuova-a", "nuova-c"]


def test_the_default_selection_follows_the_bulletins_order(settings: Settings) -> None:
    run(settings, migrated)
    new_item(settings, "seconda", 2)
    new_item(settings, "prima", 1)
    sql(settings, "UPDATE bulletin_item SET published = '2021-09-01' WHERE slug = 'seconda'")
    assert default_slugs(settings) == ["seconda", "prima"]  # dated first, then by position


# --- drafts -----------------------------------------------------------------------------


def test_a_new_draft_takes_the_next_number_and_follows_its_items(
    seeded_settings: Settings,
) -> None:
    chosen = ids(seeded_settings, "horizon-europe", "esiti-bando-wonder")
    number = save(seeded_settings, item_ids=chosen, intro_markdown="Ciao *a tutti*.\n\n<b>x</b>")
    assert number == 2
    assert get(seeded_settings, 2) is None  # a draft is not public
    draft = get(seeded_settings, 2, published_only=False)
    assert draft is not None and draft.state == "draft"
    assert draft.intro_html == "<p>Ciao <em>a tutti</em>.</p>\n<p>&lt;b&gt;x&lt;/b&gt;</p>\n"
    assert [entry.facts.slug for entry in draft.entries] == ["horizon-europe", "esiti-bando-wonder"]
    edit_on_site(seeded_settings, "horizon-europe", "Horizon Europe, aggiornato")
    draft = get(seeded_settings, 2, published_only=False)
    assert draft is not None
    assert draft.entries[0].facts.title == "Horizon Europe, aggiornato"
    assert not draft.entries[0].changed_since


def test_saving_a_draft_again_replaces_its_text_and_items(seeded_settings: Settings) -> None:
    number = save(seeded_settings, item_ids=ids(seeded_settings, "horizon-europe"))
    save(
        seeded_settings,
        number,
        title="  Nuovo titolo  ",
        item_ids=ids(seeded_settings, "top-of-the-pid", "horizon-europe"),
    )
    draft = get(seeded_settings, number, published_only=False)
    assert draft is not None and draft.title == "Nuovo titolo"
    assert [entry.facts.slug for entry in draft.entries] == ["top-of-the-pid", "horizon-europe"]
    assert counts(seeded_settings)[:2] == (2, 14)


def test_every_write_records_the_numeri(seeded_settings: Settings) -> None:
    before = counts(seeded_settings)[2]
    number = save(seeded_settings, item_ids=ids(seeded_settings, "horizon-europe"))
    publish(seeded_settings, number)
    recorded = dict(sql(seeded_settings, "SELECT name, version FROM content_changes"))
    assert recorded[changes.NUMERI] == before + 2


# --- publication ------------------------------------------------------------------------


def test_publishing_freezes_what_the_numero_says_and_links_the_current_version(
    seeded_settings: Settings,
) -> None:
    chosen = ids(seeded_settings, "top-of-the-pid", "horizon-europe")
    number = save(seeded_settings, item_ids=chosen)
    publish(seeded_settings, number)
    edit_on_site(seeded_settings, "top-of-the-pid", "Top of the PID, seconda versione")
    sql(
        seeded_settings,
        "UPDATE bulletin_item SET deadline = '2021-10-01' WHERE slug = 'top-of-the-pid'",
    )
    numero = get(seeded_settings, number)
    assert numero is not None and numero.state == "published"
    assert numero.issued == date(2021, 9, 5)  # the day in Rome
    edited, untouched = numero.entries
    assert edited.facts.title == "Top of the PID"
    assert edited.facts.deadline == date(2021, 9, 3)
    assert edited.facts.contact_email == "premiopid@unioncamere.it"
    assert edited.facts.summary.startswith("La rete dei Punti Impresa Digitale")
    assert (edited.revision, edited.current_revision) == (1, 2)
    assert edited.changed_since and edited.current_slug == "top-of-the-pid"
    assert untouched.live and not untouched.changed_since


def test_a_withdrawn_or_deleted_item_keeps_its_entry_without_a_live_link(
    seeded_settings: Settings,
) -> None:
    number = save(
        seeded_settings, item_ids=ids(seeded_settings, "horizon-europe", "top-of-the-pid")
    )
    publish(seeded_settings, number)
    sql(
        seeded_settings,
        "UPDATE bulletin_item SET state = 'withdrawn' WHERE slug = 'horizon-europe'",
    )
    sql(seeded_settings, "DELETE FROM bulletin_item WHERE slug = 'top-of-the-pid'")
    numero = get(seeded_settings, number)
    assert numero is not None
    withdrawn, deleted = numero.entries
    assert withdrawn.facts.title.startswith("Horizon Europe") and not withdrawn.live
    assert deleted.facts.slug == "top-of-the-pid" and deleted.item_id is None
    assert not deleted.live and not deleted.changed_since


def test_a_published_numero_cannot_be_saved_published_or_deleted_again(
    seeded_settings: Settings,
) -> None:
    before = counts(seeded_settings)
    for attempt in (
        lambda: save(seeded_settings, 1, item_ids=ids(seeded_settings, "horizon-europe")),
        lambda: publish(seeded_settings, 1),
        lambda: run(seeded_settings, delete(1)),
    ):
        with pytest.raises(NumeroError) as refused:
            attempt()
        assert refused.value.field == "number"
        assert "già pubblicato" in refused.value.message
    assert counts(seeded_settings) == before


def delete(number: int) -> Callable[[Database], Awaitable[None]]:
    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            await numeri.delete_draft(conn, number)

    return work


def test_a_draft_can_be_deleted(seeded_settings: Settings) -> None:
    before = counts(seeded_settings)
    number = save(seeded_settings, item_ids=ids(seeded_settings, "horizon-europe"))
    run(seeded_settings, delete(number))
    assert counts(seeded_settings)[:2] == before[:2]


def test_publishing_refuses_an_item_withdrawn_since_the_draft(seeded_settings: Settings) -> None:
    number = save(seeded_settings, item_ids=ids(seeded_settings, "horizon-europe"))
    sql(
        seeded_settings,
        "UPDATE bulletin_item SET state = 'withdrawn' WHERE slug = 'horizon-europe'",
    )
    before = counts(seeded_settings)
    with pytest.raises(NumeroError, match="non è pubblicata"):
        publish(seeded_settings, number)
    assert counts(seeded_settings) == before
    assert (
        sql(seeded_settings, "SELECT state FROM bulletin_numero WHERE number = ?", (number,))[0][0]
        == "draft"
    )
    assert (
        sql(
            seeded_settings,
            "SELECT count(*) FROM bulletin_numero_entry WHERE snapshot IS NOT NULL AND number = ?",
            (number,),
        )[0][0]
        == 0
    )


# --- validation stores nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"title": "   "}, "title", "Scrivi il titolo"),
        ({"title": "x" * (MAX_TITLE_CHARS + 1)}, "title", f"al massimo {MAX_TITLE_CHARS}"),
        ({"title": "Titolo\x07"}, "title", "caratteri di controllo"),
        ({"intro_markdown": "x" * 20_001}, "intro", "al massimo"),
        ({"item_ids": []}, "items", "almeno una"),
        ({"item_ids": [999_999]}, "items", "La notizia 999999 non esiste"),
        ({"item_ids": "duplicate"}, "items", "scelta due volte"),
        ({"item_ids": "draft"}, "items", "non è pubblicata"),
        ({"item_ids": "too many"}, "items", f"al massimo {MAX_ENTRIES}"),
    ],
)
def test_an_invalid_draft_is_refused_and_stores_nothing(
    seeded_settings: Settings, fields: dict[str, object], field: str, words: str
) -> None:
    horizon = ids(seeded_settings, "horizon-europe")[0]
    if fields.get("item_ids") == "duplicate":
        fields = {"item_ids": [horizon, horizon]}
    elif fields.get("item_ids") == "draft":
        fields = {"item_ids": [new_item(seeded_settings, "bozza", 20)]}
        sql(seeded_settings, "UPDATE bulletin_item SET state = 'draft' WHERE slug = 'bozza'")
    elif fields.get("item_ids") == "too many":
        fields = {
            "item_ids": [
                new_item(seeded_settings, f"n-{n}", 20 + n) for n in range(MAX_ENTRIES + 1)
            ]
        }
    fields.setdefault("item_ids", [horizon])
    before = counts(seeded_settings)
    with pytest.raises(NumeroError) as refused:
        save(seeded_settings, **fields)
    assert refused.value.field == field
    assert words in refused.value.message
    assert counts(seeded_settings) == before


def test_saving_or_publishing_an_unknown_number_is_refused(seeded_settings: Settings) -> None:
    before = counts(seeded_settings)
    with pytest.raises(NumeroError, match="Il numero 7 non esiste"):
        save(seeded_settings, 7, item_ids=ids(seeded_settings, "horizon-europe"))
    with pytest.raises(NumeroError, match="Il numero 7 non esiste"):
        publish(seeded_settings, 7)
    assert counts(seeded_settings) == before


# --- lists ------------------------------------------------------------------------------


def test_the_archive_lists_published_numeri_newest_first_in_pages(
    seeded_settings: Settings,
) -> None:
    horizon = ids(seeded_settings, "horizon-europe")
    for _ in range(3):
        publish(seeded_settings, save(seeded_settings, item_ids=horizon))
    save(seeded_settings, item_ids=horizon)  # a draft: not in the archive

    async def pages(db: Database) -> list[list[int]]:
        found = []
        for page in (1, 2):
            listed = await numeri.list_numeri(db.reader, page, per_page=3)
            found.append([numero.number for numero in listed.items])
        everything = await numeri.list_numeri(db.reader, 1, per_page=10, published_only=False)
        found.append([numero.number for numero in everything.items])
        return found

    assert run(seeded_settings, pages) == [[4, 3, 2], [1], [5, 4, 3, 2, 1]]

    async def numbers(db: Database) -> list[int]:
        rows = await fetch_all(db.reader, "SELECT number FROM bulletin_numero")
        assert len(rows) == 5
        return [number for number, _ in await numeri.published_numbers(db.reader)]

    assert run(seeded_settings, numbers) == [4, 3, 2, 1]
