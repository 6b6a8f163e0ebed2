"""The export of the bulletin as files: importing it gives the same items, exporting again the
same bytes, on the seed, on the benchmarks' 2,000 items and on items written on the site;
a folder it must not write into, or items it cannot write, change nothing."""

from __future__ import annotations

import sqlite3
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from generate_data import write_items
from greenweb.bulletin.file_writer import (
    FIELD_ORDER,
    STAGED_SUFFIX,
    ExportRefused,
    ExportReport,
    LeftOut,
    MissingMarkdown,
    export_bulletin,
    toml_value,
)
from greenweb.bulletin.files import FIELDS
from greenweb.bulletin.items import ITEM_COLUMNS
from greenweb.config import Settings
from greenweb.db import with_database
from support import SEED_DIR, import_seed, make_settings
from support.factory import write_item
from support.site_edits import edit_on_site, withdraw_on_site, write_on_site

# Every column the pages read (ITEM_COLUMNS, tags included), the state and the Markdown; not
# the id, the time of the import, nor the file's name and hash.
SAME_ITEM_SQL = f"SELECT {ITEM_COLUMNS}, state, body_markdown FROM bulletin_item ORDER BY slug"
NOT_COMPARED = {"id", "updated_at"}


def export(settings: Settings, directory: Path, *, overwrite: bool = False) -> ExportReport:
    return with_database(
        settings.db_path,
        lambda db: export_bulletin(db.reader, directory, overwrite=overwrite),
    )


def stored_items(settings: Settings) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(settings.db_path)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute(SAME_ITEM_SQL).fetchall()
    finally:
        conn.close()
    return {
        row["slug"]: {name: row[name] for name in row.keys() if name not in NOT_COMPARED}
        for row in rows
    }


def folder_bytes(directory: Path) -> dict[str, bytes | None]:
    """Each entry's bytes (None for a folder)."""
    return {
        path.name: None if path.is_dir() else path.read_bytes()
        for path in sorted(directory.iterdir())
    }


def count_items(settings: Settings) -> int:
    conn = sqlite3.connect(settings.db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM bulletin_item").fetchone()[0])
    finally:
        conn.close()


def imported_copy(tmp_path: Path, folder: Path) -> Settings:
    """A new database holding what ``greenweb import folder`` stores."""
    copy = make_settings(tmp_path / "copy")
    (tmp_path / "copy").mkdir()
    import_seed(copy, folder)
    return copy


def assert_round_trip(settings: Settings, tmp_path: Path) -> dict[str, bytes]:
    """Export, import the export into an empty database, export that: the same items, and
    the same bytes. Returns the files."""
    first = tmp_path / "export-1"
    export(settings, first)
    copy = imported_copy(tmp_path, first)
    published = {
        slug: item for slug, item in stored_items(settings).items() if item["state"] == "published"
    }
    assert stored_items(copy) == published
    second = tmp_path / "export-2"
    export(copy, second)
    files = folder_bytes(first)
    assert folder_bytes(second) == files
    return files


# --- the round trip ------------------------------------------------------------------------


def test_the_seed_exported_and_imported_again_is_the_same_bulletin(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    files = assert_round_trip(seeded_settings, tmp_path)
    # Named as the seed's own files are.
    assert sorted(files) == sorted(path.name for path in SEED_DIR.glob("*.md"))


def test_the_benchmarks_two_thousand_items_make_the_round_trip(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "generated").mkdir()
    write_items(tmp_path / "generated", 2000)
    import_seed(settings, tmp_path / "generated")
    files = assert_round_trip(settings, tmp_path)
    assert len(files) == 2000


def test_items_written_and_edited_on_the_site_make_the_round_trip(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    write_on_site(
        seeded_settings,
        slug="evento-sul-sito",
        title='Un "evento" \\ con tutto: ‮rovescio‬ e ‘virgolette’',
        kind="evento",
        starts="2026-12-20T17:30",
        ends="2026-12-20T19:00",
        where="Torino, via Roma 1",
        organisers='Comune di Torino\nRete "Quartieri"',
        amount_min="1.000",
        amount_max="5000",
        budget="20000",
        contact_email="info@example.org",
        links="https://example.org/a\nhttps://example.org/b?x=1&y=2",
        tags="Clima, quartieri, clima",
        author="Bea Rossi",
        body="Testo con *Markdown*,\ttabulazioni e una riga\n+++\nche sembra un separatore.\n",
    )
    edit_on_site(seeded_settings, "horizon-europe", title="Horizon Europe, dal sito")
    assert_round_trip(seeded_settings, tmp_path)


def test_exporting_twice_into_the_same_folder_gives_the_same_bytes(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "bulletin"
    export(seeded_settings, folder)
    before = folder_bytes(folder)
    report = export(seeded_settings, folder, overwrite=True)
    assert folder_bytes(folder) == before
    assert report.removed == []


def test_a_file_lists_only_the_fields_its_item_has_in_the_documented_order(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    export(seeded_settings, tmp_path / "out")
    text = (tmp_path / "out" / "08-bottega-digitale-per-la-pmi.md").read_text(encoding="utf-8")
    front, body = text.split("+++\n")[1:3]
    names = [line.split(" = ")[0] for line in front.splitlines()]
    assert names == [
        "title",
        "slug",
        "kind",
        "position",
        "deadline",
        "starts",
        "ends",
        "where",
        "organisers",
        "contact_email",
        "tags",
    ]
    assert "starts = 2021-05-20T17:00:00\n" in front
    assert 'tags = ["digitale", "pmi", "webinar"]\n' in front
    assert text.startswith("+++\ntitle = ")
    assert body.startswith("\nGiovedì 20 maggio 2021")


def test_the_field_order_names_every_field_the_importer_knows_once() -> None:
    assert sorted(FIELD_ORDER) == sorted(FIELDS)
    assert FIELD_ORDER[:4] == ("title", "slug", "kind", "position")


@given(st.text())
def test_any_text_is_written_as_a_toml_string_that_reads_back_the_same(text: str) -> None:
    line = f"value = {toml_value(text)}"
    assert "\n" not in line
    assert tomllib.loads(line)["value"] == text


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("a\u202eb", '"a\\u202Eb"'),  # a right-to-left override
        ("a\u2066b\u2069", '"a\\u2066b\\u2069"'),  # an isolate
        ("a\x85b", '"a\\u0085b"'),  # a C1 control (next line)
        ("a\x7fb", '"a\\u007Fb"'),
        ('tab\t"quote"', '"tab\\t\\"quote\\""'),
    ],
)
def test_invisible_characters_are_written_as_escapes(text: str, written: str) -> None:
    assert toml_value(text) == written


# --- what is left out -----------------------------------------------------------------------


def test_drafts_scheduled_and_withdrawn_items_are_left_out_and_named(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    write_on_site(seeded_settings, "bozza", slug="una-bozza")
    write_on_site(seeded_settings, "programma", slug="in-programma")
    withdraw_on_site(seeded_settings, "top-of-the-pid")
    report = export(seeded_settings, tmp_path / "out")
    assert sorted(report.left_out, key=lambda item: item.slug) == [
        LeftOut("in-programma", "scheduled"),
        LeftOut("top-of-the-pid", "withdrawn"),
        LeftOut("una-bozza", "draft"),
    ]
    assert len(report.written) == 11
    written = " ".join(path.read_text(encoding="utf-8") for path in (tmp_path / "out").iterdir())
    for slug in ("una-bozza", "in-programma", "top-of-the-pid"):
        assert f'slug = "{slug}"' not in written


# --- refusals change nothing ------------------------------------------------------------------


def forget_markdown(settings: Settings, *slugs: str) -> None:
    """Make rows as an import before the Markdown was kept left them."""
    conn = sqlite3.connect(settings.db_path)
    with conn:
        conn.executemany(
            "UPDATE bulletin_item SET body_markdown = NULL WHERE slug = ?", [(s,) for s in slugs]
        )
    conn.close()


def test_items_without_their_markdown_refuse_the_export_naming_them(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    forget_markdown(seeded_settings, "top-of-the-pid", "horizon-europe")
    with pytest.raises(MissingMarkdown) as refused:
        export(seeded_settings, tmp_path / "out")
    assert refused.value.slugs == ["horizon-europe", "top-of-the-pid"]
    assert "greenweb import" in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_an_import_gives_the_markdown_back_and_then_the_export_works(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    forget_markdown(seeded_settings, "horizon-europe")
    import_seed(seeded_settings)
    assert len(export(seeded_settings, tmp_path / "out").written) == 12


def test_a_folder_that_is_not_empty_is_refused_and_left_as_it_was(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    write_item(folder, "99-altro.md", slug="altro")
    (folder / "LEGGIMI.txt").write_text("appunti", encoding="utf-8")
    before = folder_bytes(folder)
    with pytest.raises(ExportRefused, match="not empty"):
        export(seeded_settings, folder)
    assert folder_bytes(folder) == before


def test_a_file_in_place_of_the_folder_is_refused(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    target.write_text("non una cartella", encoding="utf-8")
    for overwrite in (False, True):
        with pytest.raises(ExportRefused, match="not a directory"):
            export(seeded_settings, target, overwrite=overwrite)
    assert target.read_text(encoding="utf-8") == "non una cartella"


def test_an_empty_bulletin_is_refused(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ExportRefused, match="no published items"):
        export(settings, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_overwrite_replaces_the_bulletin_files_and_keeps_the_others(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    export(seeded_settings, folder)
    write_item(folder, "99-di-un-altro-export.md", slug="di-un-altro-export")
    (folder / "numeri.toml").write_text("# i numeri\n", encoding="utf-8")
    (folder / ".bozza.md").write_text("appunti", encoding="utf-8")
    retitled = folder / "04-horizon-europe.md"
    retitled.write_text("vecchio", encoding="utf-8")
    report = export(seeded_settings, folder, overwrite=True)
    assert report.removed == ["99-di-un-altro-export.md"]
    assert retitled.read_text(encoding="utf-8").startswith('+++\ntitle = "Horizon Europe')
    assert (folder / "numeri.toml").read_text(encoding="utf-8") == "# i numeri\n"
    assert (folder / ".bozza.md").exists()
    # What is left imports as the same bulletin.
    assert stored_items(imported_copy(tmp_path, folder)) == stored_items(seeded_settings)


def test_a_file_that_cannot_be_written_leaves_the_folder_as_it_was(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "out"
    export(seeded_settings, folder)
    edit_on_site(seeded_settings, "horizon-europe", title="Horizon Europe, dal sito")
    edit_on_site(seeded_settings, "top-of-the-pid", title="Top of the PID, dal sito")
    # The last file's hidden name is taken by a folder: writing it fails.
    blocker = folder / f".12-torino-social-impact-european-cluster-platform.md{STAGED_SUFFIX}"
    blocker.mkdir()
    before = folder_bytes(folder)
    with pytest.raises(IsADirectoryError):
        export(seeded_settings, folder, overwrite=True)
    assert folder_bytes(folder) == before
    assert count_items(seeded_settings) == 12
