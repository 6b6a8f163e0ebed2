"""`greenweb import`'s engine: the seed loads faithfully, changes are exact, and a bad file
or directory aborts the one transaction, changing nothing."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import tomllib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from greenweb.bulletin.files import split_front_matter
from greenweb.bulletin.importer import ImportAborted, ImportReport, import_directory, load_directory
from greenweb.bulletin.newsroom import StaleRevision
from greenweb.config import Settings
from greenweb.db import Database
from support import SEED_DIR, folder_holding, import_seed
from support.factory import item_text, write_item
from support.site_edits import (
    edit_on_site,
    revision_of,
    withdraw_on_site,
    write_on_site,
)

SEED = {
    # slug: (kind, facts that must be stored exactly as the file gives them)
    "esiti-bando-wonder": ("notizia", {}),
    "italian-sustainability-photo-award": (
        "premio",
        {"deadline": "2021-09-06", "amount_min": 1500, "amount_max": 3500},
    ),
    "voucher-polo-nazionale-mobilita-sostenibile": ("notizia", {}),
    "horizon-europe": ("bando", {}),
    "call-tecnologie-sviluppo-sostenibile": (
        "bando",
        {
            "opens": "2021-06-15",
            "deadline": "2021-09-15",
            "amount_min": 15000,
            "amount_max": 50000,
            "budget": 500000,
            "contact_email": "call@innovazionesviluppo.org",
        },
    ),
    "top-of-the-pid": (
        "premio",
        {"deadline": "2021-09-03", "contact_email": "premiopid@unioncamere.it"},
    ),
    "borsa-sociale-di-torino": ("notizia", {"author": "Micol Burighel"}),
    "bottega-digitale-per-la-pmi": (
        "evento",
        {
            "deadline": "2021-05-19",
            "starts": "2021-05-20T17:00:00",
            "ends": "2021-05-20T18:00:00",
            "place": "Webinar su Microsoft Teams",
            "contact_email": "studi@apito.it",
        },
    ),
    "digital-transformation-incentivi": (
        "evento",
        {
            "deadline": "2021-05-17",
            "starts": "2021-05-18T10:00:00",
            "place": "Webinar",
            "contact_email": "innovazione@pie.camcom.it",
        },
    ),
    "conversation-community": ("notizia", {}),
    "adotta-una-buona-pratica": ("notizia", {}),
    "torino-social-impact-european-cluster-platform": ("notizia", {}),
}


def run_import(settings: Settings, directory: Path, *, force: bool = False) -> ImportReport:
    async def main() -> ImportReport:
        db = Database(settings.db_path)
        await db.open()
        try:
            return await import_directory(db, directory, force=force)
        finally:
            await db.close()

    return asyncio.run(main())


def query(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(settings.db_path)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def items(settings: Settings) -> dict[str, sqlite3.Row]:
    return {row["slug"]: row for row in query(settings, "SELECT * FROM bulletin_item")}


def tags(settings: Settings, slug: str) -> list[str]:
    rows = query(
        settings,
        "SELECT tag FROM bulletin_tag JOIN bulletin_item ON id = item_id WHERE slug = ? "
        "ORDER BY tag",
        (slug,),
    )
    return [row["tag"] for row in rows]


def version(settings: Settings) -> int:
    return int(query(settings, "SELECT version FROM content_version")[0][0])


def snapshot(settings: Settings) -> tuple[list[str], list[tuple[Any, ...]], int, bytes]:
    """Every table as SQL (FTS shadow tables included), the search rows, content_version and
    the database file's bytes."""
    conn = sqlite3.connect(settings.db_path)
    try:
        dump = list(conn.iterdump())
        search = conn.execute("SELECT rowid, title, body FROM bulletin_search").fetchall()
    finally:
        conn.close()
    return dump, search, version(settings), settings.db_path.read_bytes()


def age_all_items(settings: Settings) -> None:
    """Pretend the last import was long ago, so a new updated_at is visible."""
    conn = sqlite3.connect(settings.db_path)
    try:
        conn.execute("UPDATE bulletin_item SET updated_at = '2021-01-01T00:00:00+00:00'")
        conn.commit()
    finally:
        conn.close()


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- the seed --------------------------------------------------------------------------------


def test_the_twelve_seed_files_import_as_twelve_items(settings: Settings) -> None:
    report = run_import(settings, SEED_DIR)
    assert sorted(report.added) == sorted(SEED)
    assert (report.updated, report.removed, report.unchanged) == ([], [], 0)
    stored = items(settings)
    assert len(stored) == 12
    # One write for the items, one for numero 1 (numeri.toml), in the one transaction.
    assert version(settings) == 3


@pytest.mark.parametrize("slug", list(SEED))
def test_seed_item_has_its_kind_position_dates_and_amounts(
    seeded_settings: Settings, slug: str
) -> None:
    row = items(seeded_settings)[slug]
    kind, facts = SEED[slug]
    assert row["kind"] == kind
    assert row["position"] == list(SEED).index(slug) + 1
    assert row["published"] is None  # the seed gives no publication dates
    for column in ("deadline", "opens", "starts", "ends", "place", "contact_email", "author"):
        assert row[column] == facts.get(column), column
    for column in ("amount_min", "amount_max", "budget"):
        assert row[column] == facts.get(column), column


def test_every_front_matter_field_is_stored_as_the_file_gives_it(
    seeded_settings: Settings,
) -> None:
    stored = items(seeded_settings)
    column_of = {"where": "place"}
    for path in sorted(SEED_DIR.glob("*.md")):
        meta = tomllib.loads(path.read_text(encoding="utf-8").split("+++")[1])
        row = stored[meta["slug"]]
        assert row["source_file"] == path.name
        for name, value in meta.items():
            if name == "tags":
                assert tags(seeded_settings, meta["slug"]) == sorted(v.lower() for v in value)
            elif name in {"organisers", "links"}:
                assert json.loads(row[name]) == value, (path.name, name)
            elif isinstance(value, date | datetime):
                assert row[name] == value.isoformat(), (path.name, name)
            else:
                assert row[column_of.get(name, name)] == value, (path.name, name)


def test_seed_bodies_are_rendered_html_with_a_plain_summary(seeded_settings: Settings) -> None:
    for slug, row in items(seeded_settings).items():
        assert row["body_html"].startswith("<"), slug
        assert "<" not in row["summary"], slug
        assert 0 < len(row["summary"]) <= 220, slug
    bottega = items(seeded_settings)["bottega-digitale-per-la-pmi"]["body_html"]
    assert "<h2>Programma</h2>" in bottega
    assert "<li>Come funziona la Bottega</li>" in bottega
    # The seed's cut-off list is kept as it is, with nothing invented after it.
    horizon = items(seeded_settings)["horizon-europe"]["body_html"]
    assert "<p>Il programma è articolato in 3 pilastri:</p>\n<p>Per maggiori" in horizon


def test_seed_items_are_searchable(seeded_settings: Settings) -> None:
    rows = query(seeded_settings, "SELECT count(*) FROM bulletin_search")
    assert rows[0][0] == 12
    hits = query(
        seeded_settings,
        "SELECT rowid FROM bulletin_search WHERE bulletin_search MATCH ?",
        ('"Bottega"',),
    )
    assert len(hits) == 1


# --- re-import and changes ---------------------------------------------------------------


def test_importing_the_same_files_again_changes_nothing(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    before = snapshot(settings)
    report = run_import(settings, seed_copy)
    assert report == ImportReport(unchanged=12)
    assert not report.changed
    assert snapshot(settings) == before  # same updated_at, same content_version


def test_editing_one_file_updates_only_that_item(settings: Settings, seed_copy: Path) -> None:
    run_import(settings, seed_copy)
    age_all_items(settings)
    old_version = version(settings)
    before = items(settings)
    replace_in(
        seed_copy / "02-italian-sustainability-photo-award.md",
        "deadline = 2021-09-06",
        "deadline = 2021-09-10",
    )
    replace_in(
        seed_copy / "02-italian-sustainability-photo-award.md",
        'tags = ["fotografia", "sostenibilità"]',
        'tags = ["fotografia", "ambiente"]',
    )
    report = run_import(settings, seed_copy)
    assert report.updated == ["italian-sustainability-photo-award"]
    assert (report.added, report.removed, report.unchanged) == ([], [], 11)
    after = items(settings)
    changed = after["italian-sustainability-photo-award"]
    assert changed["deadline"] == "2021-09-10"
    assert changed["updated_at"] != "2021-01-01T00:00:00+00:00"
    assert datetime.fromisoformat(changed["updated_at"]).tzinfo is not None
    assert changed["id"] == before["italian-sustainability-photo-award"]["id"]
    assert tags(settings, "italian-sustainability-photo-award") == ["ambiente", "fotografia"]
    for slug in SEED:
        if slug != "italian-sustainability-photo-award":
            assert dict(after[slug]) == dict(before[slug]), slug
    assert version(settings) == old_version + 1


def test_an_import_records_a_change_to_the_bulletin_and_nothing_of_the_board(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    before = version(settings)
    replace_in(seed_copy / "02-italian-sustainability-photo-award.md", "2021-09-06", "2021-09-10")
    run_import(settings, seed_copy)
    rows = query(settings, "SELECT name FROM content_changes WHERE version > ?", (before,))
    assert [row["name"] for row in rows] == ["bulletin"]


def test_an_edited_body_is_what_search_finds(settings: Settings, seed_copy: Path) -> None:
    run_import(settings, seed_copy)
    replace_in(seed_copy / "04-horizon-europe.md", "3 pilastri:", "3 pilastri: zafferano.")
    run_import(settings, seed_copy)
    hits = query(
        settings,
        "SELECT rowid FROM bulletin_search WHERE bulletin_search MATCH ?",
        ('"zafferano"',),
    )
    assert [h[0] for h in hits] == [items(settings)["horizon-europe"]["id"]]
    assert len(query(settings, "SELECT rowid FROM bulletin_search")) == 12


def test_deleting_a_file_removes_its_item_search_row_and_tags(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    gone_id = items(settings)["top-of-the-pid"]["id"]
    old_version = version(settings)
    (seed_copy / "06-top-of-the-pid.md").unlink()
    # Numero 1 lists the item: without its file, the numeri are left as they are.
    (seed_copy / "numeri.toml").unlink()
    report = run_import(settings, seed_copy)
    assert report.removed == ["top-of-the-pid"]
    assert report.unchanged == 11
    assert "top-of-the-pid" not in items(settings)
    assert query(settings, "SELECT * FROM bulletin_search WHERE rowid = ?", (gone_id,)) == []
    assert query(settings, "SELECT * FROM bulletin_tag WHERE item_id = ?", (gone_id,)) == []
    assert len(query(settings, "SELECT rowid FROM bulletin_search")) == 11
    assert version(settings) == old_version + 1


def test_a_new_file_is_added_beside_the_others(settings: Settings, seed_copy: Path) -> None:
    run_import(settings, seed_copy)
    write_item(seed_copy, "13-nuovo.md", slug="nuovo", position=13, published=date(2021, 9, 1))
    report = run_import(settings, seed_copy)
    assert report.added == ["nuovo"] and report.unchanged == 12
    assert items(settings)["nuovo"]["published"] == "2021-09-01"


def test_renaming_a_slug_replaces_the_item(settings: Settings, seed_copy: Path) -> None:
    run_import(settings, seed_copy)
    replace_in(seed_copy / "04-horizon-europe.md", 'slug = "horizon-europe"', 'slug = "horizon"')
    replace_in(seed_copy / "numeri.toml", '"horizon-europe"', '"horizon"')  # numero 1 lists it
    report = run_import(settings, seed_copy)
    assert (report.added, report.removed) == (["horizon"], ["horizon-europe"])
    assert len(items(settings)) == 12


# --- the Markdown as written, and revisions -------------------------------------------------


def test_every_item_keeps_its_markdown_exactly_as_written_after_the_front_matter(
    seeded_settings: Settings,
) -> None:
    stored = items(seeded_settings)
    for path in sorted(SEED_DIR.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        meta = tomllib.loads(text.split("+++")[1])
        body = text.split("\n+++\n", 1)[1]
        assert stored[meta["slug"]]["body_markdown"] == body, path.name
        assert split_front_matter(text, path)[1] == body


def test_rows_imported_before_the_markdown_was_kept_get_it_from_unchanged_files(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.execute("UPDATE bulletin_item SET body_markdown = NULL WHERE slug = 'horizon-europe'")
    conn.close()
    report = run_import(settings, seed_copy)
    assert (report.updated, report.unchanged) == (["horizon-europe"], 11)
    body = (seed_copy / "04-horizon-europe.md").read_text(encoding="utf-8").split("\n+++\n")[1]
    assert items(settings)["horizon-europe"]["body_markdown"] == body


def test_an_import_moves_the_revision_of_the_items_it_updates_and_of_no_other(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    assert {row["revision"] for row in items(settings).values()} == {1}
    replace_in(seed_copy / PHOTO, "2021-09-06", "2021-09-10")
    write_item(seed_copy, "13-nuovo.md", slug="nuovo", position=13)
    run_import(settings, seed_copy)
    revisions = {slug: row["revision"] for slug, row in items(settings).items()}
    assert revisions.pop("italian-sustainability-photo-award") == 2
    assert revisions.pop("nuovo") == 1
    assert set(revisions.values()) == {1}


def test_a_form_opened_before_an_import_that_updated_its_item_is_stale(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    opened_at = revision_of(settings, "horizon-europe")
    replace_in(seed_copy / "04-horizon-europe.md", "3 pilastri:", "3 pilastri (dal file):")
    run_import(settings, seed_copy)
    with pytest.raises(StaleRevision):
        edit_on_site(settings, "horizon-europe", revision=opened_at, title="Dal sito")
    assert "dal file" in items(settings)["horizon-europe"]["body_markdown"]


# --- what editors did on the site is never lost ----------------------------------------------


def test_an_item_edited_on_the_site_is_skipped_and_reported(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    edit_on_site(settings, "horizon-europe", title="Horizon Europe, dal sito")
    edited = dict(items(settings)["horizon-europe"])
    replace_in(seed_copy / "04-horizon-europe.md", "3 pilastri:", "3 pilastri (dal file):")
    replace_in(seed_copy / PHOTO, "2021-09-06", "2021-09-10")
    report = run_import(settings, seed_copy)
    assert report.skipped == ["horizon-europe"]
    assert report.updated == ["italian-sustainability-photo-award"]
    assert (report.added, report.removed, report.overwritten, report.kept) == ([], [], [], [])
    assert dict(items(settings)["horizon-europe"]) == edited
    assert edited["edited_on_site"] == 1


def test_an_edited_item_is_skipped_even_when_its_file_has_not_changed(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    edit_on_site(settings, "horizon-europe", title="Horizon Europe, dal sito")
    before = snapshot(settings)
    report = run_import(settings, seed_copy)
    assert report == ImportReport(unchanged=11, skipped=["horizon-europe"])
    assert snapshot(settings)[:3] == before[:3]


def test_force_overwrites_an_edited_item_with_its_file_and_keeps_the_edit_as_a_revision(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    file_version = dict(items(settings)["horizon-europe"])
    edit_on_site(settings, "horizon-europe", title="Horizon Europe, dal sito")
    edited_revision = revision_of(settings, "horizon-europe")
    report = run_import(settings, seed_copy, force=True)
    assert report.overwritten == ["horizon-europe"]
    assert report.updated == ["horizon-europe"]
    assert (report.skipped, report.unchanged) == ([], 11)
    row = items(settings)["horizon-europe"]
    for column in ("title", "body_html", "body_markdown", "summary", "source_file", "state"):
        assert row[column] == file_version[column], column
    assert (row["edited_on_site"], row["revision"]) == (0, edited_revision + 1)
    kept = query(
        settings,
        "SELECT revision, editor, action, fields FROM bulletin_revision WHERE item_id = ? "
        "ORDER BY revision",
        (row["id"],),
    )
    assert [(r["revision"], r["editor"], r["action"]) for r in kept] == [
        (1, "greenweb import", "importato"),
        (2, "bea", "modificato"),
        (3, "greenweb import", "importato"),
    ]
    assert json.loads(kept[1]["fields"])["title"] == "Horizon Europe, dal sito"
    assert json.loads(kept[2]["fields"])["title"] == file_version["title"]
    assert json.loads(kept[2]["fields"])["tags"] == ", ".join(tags(settings, "horizon-europe"))
    assert json.loads(kept[2]["fields"])["tags"] == "europa, innovazione, ricerca"
    # Forced once, the item follows its file again.
    assert run_import(settings, seed_copy) == ImportReport(unchanged=12)


def test_force_publishes_again_an_item_withdrawn_on_the_site(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    withdraw_on_site(settings, "top-of-the-pid")
    assert run_import(settings, seed_copy).skipped == ["top-of-the-pid"]
    assert items(settings)["top-of-the-pid"]["state"] == "withdrawn"
    assert len(query(settings, "SELECT rowid FROM bulletin_search")) == 11
    run_import(settings, seed_copy, force=True)
    assert items(settings)["top-of-the-pid"]["state"] == "published"
    assert len(query(settings, "SELECT rowid FROM bulletin_search")) == 12


@pytest.mark.parametrize("force", [False, True], ids=["plain", "forced"])
def test_items_made_on_the_site_survive_every_import(
    settings: Settings, seed_copy: Path, force: bool
) -> None:
    run_import(settings, seed_copy)
    write_on_site(settings, "pubblica", slug="pubblicata-sul-sito")
    write_on_site(settings, "bozza", slug="bozza-del-sito")
    write_on_site(settings, "programma", slug="programmata-sul-sito")
    made = {slug: dict(row) for slug, row in items(settings).items() if row["source_file"] == ""}
    assert sorted(made) == ["bozza-del-sito", "programmata-sul-sito", "pubblicata-sul-sito"]
    report = run_import(settings, seed_copy, force=force)
    assert report == ImportReport(unchanged=12)
    after = items(settings)
    for slug, row in made.items():
        assert dict(after[slug]) == row, slug


@pytest.mark.parametrize("force", [False, True], ids=["plain", "forced"])
def test_an_edited_item_whose_file_is_gone_is_kept_and_reported(
    settings: Settings, seed_copy: Path, force: bool
) -> None:
    run_import(settings, seed_copy)
    edit_on_site(settings, "top-of-the-pid", title="Top of the PID, dal sito")
    (seed_copy / "06-top-of-the-pid.md").unlink()
    (seed_copy / "04-horizon-europe.md").unlink()
    (seed_copy / "numeri.toml").unlink()  # numero 1 lists both
    report = run_import(settings, seed_copy, force=force)
    assert (report.kept, report.removed) == (["top-of-the-pid"], ["horizon-europe"])
    assert items(settings)["top-of-the-pid"]["title"] == "Top of the PID, dal sito"
    assert "horizon-europe" not in items(settings)


def test_a_bad_file_aborts_a_forced_import_too(settings: Settings, seed_copy: Path) -> None:
    run_import(settings, seed_copy)
    edit_on_site(settings, "horizon-europe", title="Horizon Europe, dal sito")
    replace_in(seed_copy / PHOTO, 'kind = "premio"', 'kind = "concorso"')
    before = snapshot(settings)
    with pytest.raises(ImportAborted):
        run_import(settings, seed_copy, force=True)
    assert snapshot(settings) == before


# --- every failure aborts and changes nothing -----------------------------------------------

Breaker = Callable[[Path], None]


def set_field(filename: str, old: str, new: str) -> Breaker:
    return lambda folder: replace_in(folder / filename, old, new)


def add_file(filename: str, text: str | bytes) -> Breaker:
    def write(folder: Path) -> None:
        path = folder / filename
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return write


PHOTO = "02-italian-sustainability-photo-award.md"
BOTTEGA = "08-bottega-digitale-per-la-pmi.md"

FAILURES: dict[str, tuple[Breaker, str, str]] = {
    # case: (how to break the seed copy, the file named, the field named)
    "unknown kind": (set_field(PHOTO, 'kind = "premio"', 'kind = "concorso"'), PHOTO, "kind"),
    "missing kind": (set_field(PHOTO, 'kind = "premio"\n', ""), PHOTO, "kind"),
    "kind as a list": (set_field(PHOTO, 'kind = "premio"', 'kind = ["premio"]'), PHOTO, "kind"),
    "kind as a table": (set_field(PHOTO, 'kind = "premio"', "kind = {a = 1}"), PHOTO, "kind"),
    "bad date": (
        set_field(PHOTO, "deadline = 2021-09-06", 'deadline = "6 settembre"'),
        PHOTO,
        "deadline",
    ),
    "impossible date": (
        set_field(PHOTO, "deadline = 2021-09-06", "deadline = 2021-02-30"),
        PHOTO,
        "deadline",
    ),
    "date with a time": (
        set_field(PHOTO, "deadline = 2021-09-06", "deadline = 2021-09-06T12:00:00"),
        PHOTO,
        "deadline",
    ),
    "missing title": (
        set_field(PHOTO, 'title = "Italian Sustainability Photo Award"\n', ""),
        PHOTO,
        "title",
    ),
    "empty title": (
        set_field(PHOTO, 'title = "Italian Sustainability Photo Award"', 'title = "  "'),
        PHOTO,
        "title",
    ),
    "control character in the title": (
        set_field(PHOTO, 'title = "Italian', 'title = "\\u0002Italian'),
        PHOTO,
        "title",
    ),
    "missing slug": (
        set_field(PHOTO, 'slug = "italian-sustainability-photo-award"\n', ""),
        PHOTO,
        "slug",
    ),
    "slug with capitals": (
        set_field(PHOTO, 'slug = "italian', 'slug = "Italian'),
        PHOTO,
        "slug",
    ),
    "duplicate slug across two files": (
        add_file("13-copia.md", item_text(slug="horizon-europe", position=13)),
        "13-copia.md",
        "slug",
    ),
    "bad TOML syntax": (
        set_field(PHOTO, 'title = "Italian Sustainability Photo Award"', 'title = "Italian'),
        PHOTO,
        "title",
    ),
    "bad TOML syntax outside a value": (
        set_field(PHOTO, "position = 2\n", "position = 2\n[oops\n"),
        PHOTO,
        "front matter",
    ),
    "missing opening +++": (
        add_file("13-senza.md", 'title = "x"\n+++\nTesto.\n'),
        "13-senza.md",
        "front matter",
    ),
    "missing closing +++": (
        add_file("13-aperto.md", item_text(slug="aperto").replace("\n+++\n\n", "\n\n")),
        "13-aperto.md",
        "front matter",
    ),
    "unknown field": (
        set_field(PHOTO, "position = 2\n", 'position = 2\ncolore = "verde"\n'),
        PHOTO,
        "colore",
    ),
    "position not a number": (
        set_field(PHOTO, "position = 2", 'position = "2"'),
        PHOTO,
        "position",
    ),
    "position beyond SQLite's integers": (
        set_field(PHOTO, "position = 2", "position = 99999999999999999999"),
        PHOTO,
        "position",
    ),
    "amount beyond SQLite's integers": (
        set_field(PHOTO, "amount_max = 3500", "amount_max = 9223372036854775808"),
        PHOTO,
        "amount_max",
    ),
    "negative amount": (
        set_field(PHOTO, "amount_min = 1500", "amount_min = -1"),
        PHOTO,
        "amount_min",
    ),
    "amount_max below amount_min": (
        set_field(PHOTO, "amount_max = 3500", "amount_max = 1000"),
        PHOTO,
        "amount_max",
    ),
    "ends before starts": (
        set_field(BOTTEGA, "ends = 2021-05-20T18:00:00", "ends = 2021-05-20T16:00:00"),
        BOTTEGA,
        "ends",
    ),
    "ends without starts": (
        set_field(BOTTEGA, "starts = 2021-05-20T17:00:00\n", ""),
        BOTTEGA,
        "ends",
    ),
    "ends a day while starts has a time": (
        set_field(BOTTEGA, "ends = 2021-05-20T18:00:00", "ends = 2021-05-21"),
        BOTTEGA,
        "ends",
    ),
    "bad e-mail": (
        set_field(BOTTEGA, 'contact_email = "studi@apito.it"', 'contact_email = "studi(at)apito"'),
        BOTTEGA,
        "contact_email",
    ),
    "non-http link": (
        set_field(PHOTO, '"https://www.ispaward.com/it"', '"javascript:alert(1)"'),
        PHOTO,
        "links",
    ),
    "ftp link": (
        set_field(PHOTO, '"https://www.ispaward.com/it"', '"ftp://ispaward.com/"'),
        PHOTO,
        "links",
    ),
    "tags not a list": (
        set_field(PHOTO, 'tags = ["fotografia", "sostenibilità"]', 'tags = "fotografia"'),
        PHOTO,
        "tags",
    ),
    "tag with markup": (
        set_field(PHOTO, '"fotografia"', '"<b>foto</b>"'),
        PHOTO,
        "tags",
    ),
    "no body": (
        add_file("13-vuoto.md", item_text(slug="vuoto", body="   ")),
        "13-vuoto.md",
        "body",
    ),
    "control character in the body": (
        add_file("13-controllo.md", item_text(slug="controllo", body="Testo \x03 strano.")),
        "13-controllo.md",
        "body",
    ),
    "invalid UTF-8 file": (
        add_file("13-latin1.md", item_text(slug="latin1", body="Città").encode("latin-1")),
        "13-latin1.md",
        "encoding",
    ),
    "a folder named like a file": (
        lambda folder: (folder / "13-cartella.md").mkdir(),
        "13-cartella.md",
        "file",
    ),
}


def expect_refusal(settings: Settings, directory: Path) -> ImportAborted:
    before = snapshot(settings)
    with pytest.raises(ImportAborted) as caught:
        run_import(settings, directory)
    after = snapshot(settings)
    assert after[0] == before[0], "a table changed"
    assert after[1] == before[1], "the search index changed"
    assert after[2] == before[2], "content_version changed"
    assert after[3] == before[3], "the database file changed"
    return caught.value


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_bad_file_aborts_the_import_and_changes_nothing(
    settings: Settings, seed_copy: Path, case: str
) -> None:
    run_import(settings, seed_copy)
    age_all_items(settings)  # so that a half-applied import would show in updated_at
    # Another file changes too: a partial import would apply this one.
    replace_in(seed_copy / "04-horizon-europe.md", "3 pilastri:", "3 pilastri (modificato):")
    breaker, filename, field = FAILURES[case]
    breaker(seed_copy)
    aborted = expect_refusal(settings, seed_copy)
    assert [(Path(e.path).name, e.field) for e in aborted.errors] == [(filename, field)]
    message = str(aborted.errors[0])
    assert message.startswith(f"{seed_copy / filename}: {field}: "), message
    assert len(message) > len(f"{seed_copy / filename}: {field}: ") + 5


def test_duplicate_slug_names_the_other_file(settings: Settings, seed_copy: Path) -> None:
    run_import(settings, seed_copy)
    write_item(seed_copy, "13-copia.md", slug="horizon-europe", position=13)
    aborted = expect_refusal(settings, seed_copy)
    assert "04-horizon-europe.md" in str(aborted)


def test_every_bad_file_is_reported_at_once(settings: Settings, seed_copy: Path) -> None:
    import_seed(settings)
    replace_in(seed_copy / PHOTO, 'kind = "premio"', 'kind = "concorso"')
    replace_in(seed_copy / BOTTEGA, 'contact_email = "studi@apito.it"', 'contact_email = "x"')
    aborted = expect_refusal(settings, seed_copy)
    assert [(Path(e.path).name, e.field) for e in aborted.errors] == [
        (PHOTO, "kind"),
        (BOTTEGA, "contact_email"),
    ]


def test_an_empty_directory_is_refused_and_changes_nothing(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    empty = folder_holding(tmp_path / "vuota", "LEGGIMI.txt", "not a bulletin file")
    aborted = expect_refusal(seeded_settings, empty)
    assert [(e.path, e.field) for e in aborted.errors] == [(str(empty), "directory")]
    assert len(items(seeded_settings)) == 12


def test_a_missing_directory_is_refused_and_changes_nothing(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    missing = tmp_path / "non-esiste"
    aborted = expect_refusal(seeded_settings, missing)
    assert [(e.path, e.field) for e in aborted.errors] == [(str(missing), "directory")]


def test_hidden_files_and_other_extensions_are_not_bulletin_files(seed_copy: Path) -> None:
    (seed_copy / ".#02-italian-sustainability-photo-award.md").symlink_to("/nonexistent/lock")
    (seed_copy / ".bozza.md").write_text("+++\nnot toml\n", encoding="utf-8")
    (seed_copy / "note.txt").write_text("appunti", encoding="utf-8")
    assert len(load_directory(seed_copy)) == 12
