"""`greenweb bulletin export DIR`: one line per fact, and one line with exit 2 for a folder
it must not write into or items it cannot write, changing nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from greenweb.cli import main
from greenweb.config import Settings
from support import SEED_DIR
from support.site_edits import withdraw_on_site, write_on_site


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one line of a refused command."""
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    return captured.err.strip()


def test_export_writes_every_published_item_and_says_how_many(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "esportati"
    assert main(["bulletin", "export", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{out}: 12 items written"]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in SEED_DIR.glob("*.md"))


def test_export_names_the_items_it_left_out(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_on_site(cli_env, "bozza", slug="una-bozza")
    withdraw_on_site(cli_env, "top-of-the-pid")
    out = tmp_path / "esportati"
    assert main(["bulletin", "export", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{out}: 11 items written",
        "left out 2 items not published: top-of-the-pid (withdrawn), una-bozza (draft)",
    ]


def test_export_into_a_folder_that_is_not_empty_exits_2_and_writes_nothing(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "piena"
    out.mkdir()
    (out / "appunti.txt").write_text("da tenere", encoding="utf-8")
    line = refused(["bulletin", "export", str(out)], capsys)
    assert line == (
        f"greenweb bulletin export: {out}: not empty; choose an empty or new folder, "
        "or add --overwrite"
    )
    assert [p.name for p in out.iterdir()] == ["appunti.txt"]


def test_export_overwrite_writes_into_an_earlier_export(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "esportati"
    assert main(["bulletin", "export", str(out)]) == 0
    (out / "99-vecchio.md").write_text("+++\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["bulletin", "export", "--overwrite", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{out}: 12 items written",
        "removed 1 .md files that are not in this export: 99-vecchio.md",
    ]


def test_export_into_a_file_exits_2(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "un-file"
    out.write_text("x", encoding="utf-8")
    line = refused(["bulletin", "export", "--overwrite", str(out)], capsys)
    assert line == f"greenweb bulletin export: {out}: not a directory"


def test_export_of_items_without_their_markdown_exits_2_and_says_to_import_first(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(cli_env.db_path) as conn:
        conn.execute("UPDATE bulletin_item SET body_markdown = NULL WHERE position IN (4, 6)")
    conn.close()
    out = tmp_path / "esportati"
    line = refused(["bulletin", "export", str(out)], capsys)
    assert line == (
        "greenweb bulletin export: 2 published items have no Markdown stored, imported "
        "before it was kept: horizon-europe, top-of-the-pid; run greenweb import first"
    )
    assert not out.exists()
    assert main(["import", str(SEED_DIR)]) == 0
    assert main(["bulletin", "export", str(out)]) == 0


def test_bulletin_export_help_says_what_it_writes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bulletin", "export", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for words in ("DIR", "--overwrite", "NN-slug.md", "greenweb import", "left out"):
        assert words in out, words
