"""`greenweb import` and the site's work: it says which items it skipped, each fact on its
own line, and `--force` overwrites them."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenweb.cli import main
from greenweb.config import Settings
from support.board import query
from support.site_edits import edit_on_site, write_on_site


def titles(settings: Settings) -> dict[str, str]:
    return {slug: title for slug, title in query(settings, "SELECT slug, title FROM bulletin_item")}


def test_import_names_the_items_it_skipped_and_how_to_overwrite_them(
    cli_env: Settings, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_on_site(cli_env, "horizon-europe", title="Horizon, dal sito")
    edit_on_site(cli_env, "top-of-the-pid", title="PID, dal sito")
    write_on_site(cli_env, slug="scritta-sul-sito")
    assert main(["import", str(seed_copy)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.splitlines() == [
        f"{seed_copy}: 0 added, 0 updated, 0 removed, 10 unchanged",
        "skipped, edited on the site since their last import: horizon-europe, top-of-the-pid",
        "greenweb import --force overwrites them with their files",
    ]
    assert titles(cli_env)["horizon-europe"] == "Horizon, dal sito"


def test_import_force_overwrites_the_edited_items_and_says_which(
    cli_env: Settings, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_on_site(cli_env, "horizon-europe", title="Horizon, dal sito")
    write_on_site(cli_env, slug="scritta-sul-sito")
    assert main(["import", "--force", str(seed_copy)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{seed_copy}: 0 added, 1 updated, 0 removed, 11 unchanged",
        "overwritten, edited on the site since their last import: horizon-europe",
    ]
    assert titles(cli_env)["horizon-europe"].startswith("Horizon Europe: il programma")
    assert "scritta-sul-sito" in titles(cli_env)


def test_import_says_which_edited_items_it_kept_without_a_file(
    cli_env: Settings, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_on_site(cli_env, "top-of-the-pid", title="PID, dal sito")
    (seed_copy / "06-top-of-the-pid.md").unlink()
    (seed_copy / "numeri.toml").unlink()  # numero 1 lists it
    assert main(["import", str(seed_copy)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{seed_copy}: 0 added, 0 updated, 0 removed, 11 unchanged",
        "kept, edited on the site and without a file here: top-of-the-pid",
    ]
    assert titles(cli_env)["top-of-the-pid"] == "PID, dal sito"


def test_import_help_tells_of_force(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--force" in out
    assert "edited on the site" in out


def test_import_says_which_numeri_the_numeri_file_published(
    cli_env: Settings, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    numeri = seed_copy / "numeri.toml"
    numeri.write_text(numeri.read_text().replace('"Numero 1"', '"Il numero 1"'))
    assert main(["import", str(seed_copy)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{seed_copy}: 0 added, 0 updated, 0 removed, 12 unchanged",
        "numeri.toml: numero 1 published from the file",
    ]
    assert query(cli_env, "SELECT title FROM bulletin_numero") == [("Il numero 1",)]
