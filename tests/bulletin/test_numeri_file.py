"""numeri.toml: validated before the import touches the database, stored in its
transaction; an unchanged file changes nothing, a changed one publishes its numero afresh,
and numeri made on the site are never touched."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from greenweb.bulletin import numeri
from greenweb.bulletin.importer import ImportAborted, ImportReport, import_directory
from greenweb.bulletin.numeri import MAX_ENTRIES
from greenweb.config import Settings
from greenweb.db import Database, with_database
from support.factory import write_item

SLUGS = ("primo", "secondo", "terzo")
GOOD = """\
[[numero]]
number = 1
title = "Numero di prova"
intro = "Benvenuti nel *primo* numero."
issued = 2021-09-01
items = ["secondo", "primo"]
"""


def folder(tmp_path: Path, numeri_toml: str | bytes | None = GOOD) -> Path:
    directory = tmp_path / "bulletin"
    for position, slug in enumerate(SLUGS, 1):
        write_item(
            directory, f"{position}-{slug}.md", slug=slug, title=f"Titolo {slug}", position=position
        )
    if isinstance(numeri_toml, bytes):
        (directory / "numeri.toml").write_bytes(numeri_toml)
    elif numeri_toml is not None:
        (directory / "numeri.toml").write_text(numeri_toml, encoding="utf-8")
    return directory


def run_import(settings: Settings, directory: Path) -> ImportReport:
    return with_database(settings.db_path, lambda db: import_directory(db, directory))


def rows(
    settings: Settings, statement: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(settings.db_path)
    try:
        found = [tuple(row) for row in conn.execute(statement, params)]
        conn.commit()
        return found
    finally:
        conn.close()


def state(settings: Settings) -> list[list[tuple[object, ...]]]:
    """Everything an import may write, to compare before and after."""
    return [
        rows(settings, "SELECT * FROM bulletin_numero ORDER BY number"),
        rows(settings, "SELECT * FROM bulletin_numero_entry ORDER BY number, position"),
        rows(settings, "SELECT id, slug, title, updated_at FROM bulletin_item ORDER BY id"),
        rows(settings, "SELECT version FROM content_version"),
    ]


def numero(settings: Settings, number: int) -> numeri.Numero | None:
    async def work(db: Database) -> numeri.Numero | None:
        return await numeri.get_numero(db.reader, number)

    return with_database(settings.db_path, work)


def test_a_good_file_publishes_its_numero_at_import(settings: Settings, tmp_path: Path) -> None:
    run_import(settings, folder(tmp_path))
    found = numero(settings, 1)
    assert found is not None
    assert (found.title, found.state, found.source) == ("Numero di prova", "published", "file")
    assert found.intro_markdown == "Benvenuti nel *primo* numero."
    assert found.intro_html == "<p>Benvenuti nel <em>primo</em> numero.</p>\n"
    assert found.issued is not None and found.issued.isoformat() == "2021-09-01"
    assert [entry.facts.slug for entry in found.entries] == ["secondo", "primo"]
    stored = rows(settings, "SELECT count(*) FROM bulletin_numero_entry WHERE snapshot IS NULL")
    assert stored == [(0,)]  # frozen


def test_re_importing_an_unchanged_file_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    directory = folder(tmp_path)
    run_import(settings, directory)
    before = state(settings)
    report = run_import(settings, directory)
    assert not report.changed
    assert state(settings) == before


def test_an_item_changed_in_its_file_leaves_the_numero_as_it_was(
    settings: Settings, tmp_path: Path
) -> None:
    directory = folder(tmp_path)
    run_import(settings, directory)
    numero_rows = rows(settings, "SELECT * FROM bulletin_numero_entry")
    write_item(directory, "1-primo.md", slug="primo", title="Titolo nuovo", position=1)
    report = run_import(settings, directory)
    assert report.updated == ["primo"]
    assert rows(settings, "SELECT * FROM bulletin_numero_entry") == numero_rows
    found = numero(settings, 1)
    assert found is not None and found.entries[1].facts.title == "Titolo primo"


def test_a_changed_file_publishes_its_numero_afresh(settings: Settings, tmp_path: Path) -> None:
    directory = folder(tmp_path)
    run_import(settings, directory)
    first_published = rows(settings, "SELECT published_at FROM bulletin_numero")
    write_item(directory, "1-primo.md", slug="primo", title="Titolo nuovo", position=1)
    changed = GOOD.replace('items = ["secondo", "primo"]', 'items = ["primo", "terzo"]')
    (directory / "numeri.toml").write_text(changed.replace("issued = 2021-09-01\n", ""))
    run_import(settings, directory)
    found = numero(settings, 1)
    assert found is not None and found.issued is None
    assert [entry.facts.title for entry in found.entries] == ["Titolo nuovo", "Titolo terzo"]
    assert rows(settings, "SELECT published_at FROM bulletin_numero") == first_published


def test_a_numero_the_file_no_longer_lists_is_deleted_and_site_numeri_stay(
    settings: Settings, tmp_path: Path
) -> None:
    directory = folder(tmp_path)
    run_import(settings, directory)
    made_on_site = site_numero(settings)
    (directory / "numeri.toml").write_text("# no numeri for now\n")
    run_import(settings, directory)
    assert rows(settings, "SELECT number, source FROM bulletin_numero") == [(made_on_site, "site")]


def site_numero(settings: Settings) -> int:
    async def work(db: Database) -> int:
        async with db.transaction() as conn:
            return await numeri.save_draft(
                conn,
                number=None,
                title="Fatto in redazione",
                intro_markdown="",
                item_ids=[3],
                now=datetime(2021, 9, 5, tzinfo=UTC),
            )

    return with_database(settings.db_path, work)


def test_without_the_file_numeri_are_left_as_they_are(settings: Settings, tmp_path: Path) -> None:
    directory = folder(tmp_path)
    run_import(settings, directory)
    before = state(settings)[:2]
    (directory / "numeri.toml").unlink()
    report = run_import(settings, directory)
    assert not report.changed
    assert state(settings)[:2] == before


def test_a_directory_without_the_file_imports_as_before(settings: Settings, tmp_path: Path) -> None:
    report = run_import(settings, folder(tmp_path, None))
    assert len(report.added) == 3
    assert rows(settings, "SELECT count(*) FROM bulletin_numero") == [(0,)]


def numero_with(**fields: str) -> str:
    values = {"number": "1", "title": '"Numero 1"', "items": '["primo"]', **fields}
    lines = [f"{name} = {value}" for name, value in values.items() if value != "-"]
    return "[[numero]]\n" + "\n".join(lines) + "\n"


TOO_LONG = '"' + "x" * 201 + '"'
TOO_MANY = "[" + ", ".join(['"primo"'] * (MAX_ENTRIES + 1)) + "]"
BAD_FILES = {
    # name: (numeri.toml, the end of the one-line error)
    "unknown slug": (numero_with(items='["x"]'), "numero[0].items: unknown slug 'x'"),
    "slug twice": (
        numero_with(items='["primo", "primo"]'),
        "numero[0].items: 'primo' is listed twice",
    ),
    "no items": (
        numero_with(items="[]"),
        "numero[0].items: must be a non-empty list of item slugs",
    ),
    "items missing": (numero_with(items="-"), "numero[0].items: missing"),
    "items not strings": (
        numero_with(items="[1]"),
        "numero[0].items: must be a list of item slugs (strings)",
    ),
    "too many items": (
        numero_with(items=TOO_MANY),
        f"numero[0].items: more than {MAX_ENTRIES} items",
    ),
    "number missing": (numero_with(number="-"), "numero[0].number: missing"),
    "number zero": (
        numero_with(number="0"),
        "numero[0].number: must be a whole number from 1 to 1000000",
    ),
    "number text": (
        numero_with(number='"1"'),
        "numero[0].number: must be a whole number from 1 to 1000000",
    ),
    "number true": (
        numero_with(number="true"),
        "numero[0].number: must be a whole number from 1 to 1000000",
    ),
    "number twice": (numero_with() + numero_with(), "numero[1].number: numero 1 is listed twice"),
    "title missing": (numero_with(title="-"), "numero[0].title: missing"),
    "title blank": (numero_with(title='"  "'), "numero[0].title: missing"),
    "title too long": (numero_with(title=TOO_LONG), "numero[0].title: longer than 200 characters"),
    "title control": (
        numero_with(title='"a\\u0007"'),
        "numero[0].title: contains the control character U+0007",
    ),
    "title two lines": (numero_with(title='"a\\nb"'), "numero[0].title: must be one line"),
    "title not text": (numero_with(title="3"), "numero[0].title: must be a string"),
    "intro not text": (numero_with(intro="[]"), "numero[0].intro: must be a string"),
    "intro too long": (
        numero_with(intro='"' + "x" * 20_001 + '"'),
        "numero[0].intro: longer than 20000 characters",
    ),
    "issued text": (
        numero_with(issued='"2021-09-01"'),
        "numero[0].issued: must be a TOML date such as 2021-09-01",
    ),
    "issued time": (
        numero_with(issued="2021-09-01T10:00:00"),
        "numero[0].issued: must be a TOML date such as 2021-09-01",
    ),
    "unknown field": (numero_with(date="2021-09-01"), "numero[0].date: unknown field"),
    "unknown table": ("[numeri]\nx = 1\n", "numeri: unknown field (numeri are [[numero]] tables)"),
    "not tables": ("numero = 1\n", "numero: must be [[numero]] tables"),
    "not a table": ("numero = [1]\n", "numero[0]: must be a [[numero]] table"),
    "invalid toml": ("[[numero]\n", "file: invalid TOML: "),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_aborts_the_import_and_changes_nothing(
    settings: Settings, tmp_path: Path, case: str
) -> None:
    directory = folder(tmp_path)
    run_import(settings, directory)
    before = state(settings)
    text, error = BAD_FILES[case]
    # The items change too: nothing of them may be stored either.
    write_item(directory, "1-primo.md", slug="primo", title="Titolo nuovo", position=1)
    (directory / "numeri.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ImportAborted) as aborted:
        run_import(settings, directory)
    [message] = [str(problem) for problem in aborted.value.errors]
    assert message.startswith(f"{directory / 'numeri.toml'}: ")
    if case == "invalid toml":
        assert error in message
    else:
        assert message.endswith(f"numeri.toml: {error}")
    assert state(settings) == before


def test_a_file_that_is_not_utf8_aborts_the_import(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ImportAborted, match="numeri.toml: encoding: the file is not valid UTF-8"):
        run_import(settings, folder(tmp_path, b"\xff\xfe"))
    assert rows(settings, "SELECT count(*) FROM bulletin_item") == [(0,)]


def test_a_number_made_on_the_site_is_refused_to_the_file(
    settings: Settings, tmp_path: Path
) -> None:
    directory = folder(tmp_path, None)
    run_import(settings, directory)
    made_on_site = site_numero(settings)
    before = state(settings)
    (directory / "numeri.toml").write_text(GOOD.replace("number = 1", f"number = {made_on_site}"))
    with pytest.raises(
        ImportAborted, match=f"numero\\[0\\].number: numero {made_on_site} was made on the site"
    ):
        run_import(settings, directory)
    assert state(settings) == before


def test_deleting_an_item_numero_1_lists_needs_the_numeri_file_changed_too(
    settings: Settings, seed_copy: Path
) -> None:
    run_import(settings, seed_copy)
    before = state(settings)
    (seed_copy / "06-top-of-the-pid.md").unlink()
    with pytest.raises(ImportAborted, match="numero\\[0\\].items: unknown slug 'top-of-the-pid'"):
        run_import(settings, seed_copy)
    assert state(settings) == before
    numeri_toml = seed_copy / "numeri.toml"
    numeri_toml.write_text(numeri_toml.read_text().replace('    "top-of-the-pid",\n', ""))
    report = run_import(settings, seed_copy)
    assert report.removed == ["top-of-the-pid"]
    found = numero(settings, 1)
    assert found is not None and len(found.entries) == 11
