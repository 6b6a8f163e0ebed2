"""`greenweb ebook OUT.epub`: the board's e-book, the bytes /domande/ebook.epub serves."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from greenweb import cli
from greenweb.board import rules
from greenweb.config import Settings
from support.board import board_client
from support.moderation import cli_env
from support.open_board import open_board


def test_ebook_writes_the_file_the_site_serves(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    open_board(settings)
    cli_env(monkeypatch, settings)
    monkeypatch.setenv("GREENWEB_BASE_URL", settings.base_url)
    out = tmp_path / "dubbi.epub"
    assert cli.main(["ebook", str(out)]) == 0
    written = out.read_bytes()
    assert capsys.readouterr().out == f"{out}: {len(written):,} bytes\n"
    with board_client(settings) as client:
        served = client.get("/domande/ebook.epub")
    assert served.status_code == 200
    assert served.content == written


def test_ebook_into_a_missing_folder_is_one_line_and_a_failure(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_env(monkeypatch, settings)
    out = tmp_path / "manca" / "dubbi.epub"
    assert cli.main(["ebook", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.err == f"greenweb ebook: {out}: the folder {out.parent} does not exist\n"
    assert not out.parent.exists()


def test_serve_without_the_rules_file_is_one_line_naming_it(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_env(monkeypatch, settings)
    monkeypatch.setattr(rules, "board_data_dir", lambda: tmp_path)
    before = signal.getsignal(signal.SIGTERM)
    try:
        status = cli.main(["serve", "--port", "0"])
    finally:
        signal.signal(signal.SIGTERM, before)
    assert status == 1
    missing = tmp_path / "regole.md"
    assert capsys.readouterr().err == f"greenweb serve: {missing}: file: not found\n"
