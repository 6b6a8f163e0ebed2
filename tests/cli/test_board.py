"""`greenweb moderator` and `greenweb questions export`: the board's command group."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from greenweb import cli
from greenweb.config import Settings
from support.board import (
    PASSWORD,
    add_moderator,
    board_client,
    cheap_password_hashing,
    publish_directly,
    query,
)
from support.moderation import cli_env


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


def test_moderator_add_list_remove(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add_moderator(monkeypatch, settings, "anna") == 0
    assert add_moderator(monkeypatch, settings, "bruno.r") == 0
    stored = query(settings, "SELECT name, password_hash FROM moderators ORDER BY name")
    assert [name for name, _ in stored] == ["anna", "bruno.r"]
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for _, h in stored)
    capsys.readouterr()
    assert cli.main(["moderator", "list"]) == 0
    listing = capsys.readouterr().out
    assert "anna\tsince " in listing and "bruno.r" in listing
    assert cli.main(["moderator", "remove", "bruno.r"]) == 0
    assert query(settings, "SELECT name FROM moderators") == [("anna",)]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["moderator", "add", "anna"], "corta\n", "password: too short"),
        (["moderator", "add", "anna"], "", "no password on stdin"),
        (["moderator", "add", "anna"], " spazi intorno \n", "must not start or end with spaces"),
        (["moderator", "add", "_x"], PASSWORD + "\n", "name"),
        (["moderator", "add", "nome con spazi"], PASSWORD + "\n", "name"),
        (["moderator", "add", "ANNA"], PASSWORD + "\n", "already exists"),
        (["moderator", "remove", "nessuno"], "", "no such moderator"),
    ],
)
def test_moderator_command_errors_go_to_stderr_and_change_nothing(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    assert add_moderator(monkeypatch, settings, "anna") == 0
    capsys.readouterr()
    before = query(settings, "SELECT name, password_hash FROM moderators")
    cli_env(monkeypatch, settings, stdin)
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("greenweb moderator: ") and message in err
    assert query(settings, "SELECT name, password_hash FROM moderators") == before


def test_moderator_add_asks_twice_on_a_terminal(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    cli_env(monkeypatch, settings)
    monkeypatch.setattr(sys, "stdin", Terminal())
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli.main(["moderator", "add", "anna"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD])
    assert cli.main(["moderator", "add", "anna"]) == 0


def test_export_to_a_file_by_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with board_client(settings):
        pass
    publish_directly(settings, 2)
    publish_directly(settings, state="respinta", published_at=None)
    cli_env(monkeypatch, settings)
    out = tmp_path / "domande.json"
    assert cli.main(["questions", "export", "--format", "json", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('"state": "pubblicata"') == 2
    assert cli.main(["questions", "export", "--all", "--output", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4  # header and 3 rows
    assert cli.main(["questions", "export", "--state", "respinta", "--output", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
