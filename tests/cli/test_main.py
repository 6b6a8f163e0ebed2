"""The `greenweb` command, run in-process (and once as `python -m greenweb`)."""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from greenweb.cli import build_parser, main
from greenweb.config import SETTINGS
from greenweb.db import migration_scripts
from support import REPO, SEED_DIR
from support.factory import write_item
from support.servers import LiveServer, greenweb_serve

SUBCOMMANDS = ["serve", "migrate", "import", "bulletin"]


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GREENWEB_DB pointing into tmp_path, and a fixed secret (no file written)."""
    path = tmp_path / "cli" / "site.db"
    monkeypatch.setenv("GREENWEB_DB", str(path))
    monkeypatch.setenv("GREENWEB_SECRET", "cli-test-secret")
    return path


def help_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out
    return out


def count_items(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM bulletin_item").fetchone()[0])
    finally:
        conn.close()


def test_help_lists_every_subcommand_and_every_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = help_of(["--help"], capsys)
    assert out.startswith("usage: greenweb")
    for name in SUBCOMMANDS:
        assert name in out
    for setting in SETTINGS:
        assert setting.env in out


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("serve", ["--host", "--port", "--workers", "migrations"]),
        ("migrate", ["Safe to run", "topics", "resources"]),
        ("import", ["DIRECTORY", "data/bulletin", "changes nothing"]),
    ],
)
def test_each_subcommand_has_useful_help(
    capsys: pytest.CaptureFixture[str], command: str, words: list[str]
) -> None:
    out = help_of([command, "--help"], capsys)
    assert out.startswith(f"usage: greenweb {command}")
    for word in words:
        assert word in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    out = help_of(["--version"], capsys)
    assert out.startswith("greenweb 0.")


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


def test_python_dash_m_greenweb_help(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "greenweb", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "GREENWEB_DB": str(tmp_path / "x.db")},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: greenweb")
    assert "import" in result.stdout
    assert not (tmp_path / "x.db").exists()  # --help touches nothing


def test_migrate_creates_the_database_named_by_greenweb_db(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[:-1] == [f"applied {name}" for _, name, _ in migration_scripts()]
    assert lines[-1].endswith(": topics updated, 13 resources added or updated")
    assert db_path.exists()
    assert count_items(db_path) == 0


def test_migrate_twice_says_up_to_date(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{db_path}: already up to date",
        f"{REPO / 'data'}: topics unchanged, 0 resources added or updated",
    ]


def test_import_loads_the_seed_and_reports_counts(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(SEED_DIR)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{SEED_DIR}: 12 added, 0 updated, 0 removed, 0 unchanged",
        "numeri.toml: numero 1 published from the file",
    ]
    assert count_items(db_path) == 12
    assert main(["import", str(SEED_DIR)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{SEED_DIR}: 0 added, 0 updated, 0 removed, 12 unchanged"
    ]


def test_import_defaults_to_data_bulletin(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_item(tmp_path / "data" / "bulletin", "01.md", slug="uno")
    monkeypatch.chdir(tmp_path)
    assert main(["import"]) == 0
    assert count_items(db_path) == 1


def test_import_of_a_bad_directory_exits_1_and_names_file_and_field(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(SEED_DIR)]) == 0
    capsys.readouterr()
    bad = tmp_path / "bad"
    write_item(bad, "01-buono.md", slug="buono")
    broken = write_item(bad, "02-rotto.md", slug="rotto", kind="concorso")
    assert main(["import", str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines[0].startswith(f"greenweb import: {broken}: kind: ")
    assert "concorso" in lines[0]
    assert lines[-1] == "greenweb import: nothing was changed"
    assert count_items(db_path) == 12


def test_import_of_a_bad_numeri_file_exits_1_and_changes_nothing(
    db_path: Path, seed_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(seed_copy)]) == 0
    capsys.readouterr()
    numeri_toml = seed_copy / "numeri.toml"
    numeri_toml.write_text(numeri_toml.read_text().replace('"horizon-europe"', '"horizon"'))
    assert main(["import", str(seed_copy)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        f"greenweb import: {numeri_toml}: numero[0].items: unknown slug 'horizon'",
        "greenweb import: nothing was changed",
    ]
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("SELECT count(*) FROM bulletin_numero_entry").fetchone() == (12,)
    finally:
        conn.close()


def test_import_of_a_missing_directory_exits_1(
    db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "manca"
    assert main(["import", str(missing)]) == 1
    err = capsys.readouterr().err
    assert f"greenweb import: {missing}: directory: " in err
    assert "nothing was changed" in err


# One unusable value per setting: a setting added without one fails the first test.
BAD_VALUES = {
    "GREENWEB_DB": "/",
    "GREENWEB_HOST": "127.0.0.1 8000",
    "GREENWEB_PORT": "porta",
    "GREENWEB_SECRET": "chiave\x07",
    "GREENWEB_BASE_URL": "HTTPS://[",
    "GREENWEB_PREMODERATION": "forse",
    "GREENWEB_QUESTION_MIN": "0",
    "GREENWEB_QUESTION_MAX": "10",
    "GREENWEB_NAME_MAX": "-1",
    "GREENWEB_REPORT_THRESHOLD": "tre",
    "GREENWEB_TOKEN_MIN_AGE": "1.5",
    "GREENWEB_TOKEN_MAX_AGE": "2",
    "GREENWEB_RATE_QUESTIONS_PER_HOUR": "molte",
    "GREENWEB_RATE_VOTES_PER_HOUR": "-5",
    "GREENWEB_RATE_REPORTS_PER_HOUR": "٦٠",
    "GREENWEB_RATE_SUBSCRIPTIONS_PER_HOUR": "tante",
    "GREENWEB_LOGIN_MAX_FAILURES": "0",
    "GREENWEB_LOGIN_LOCKOUT": "0",
    "GREENWEB_SESSION_MAX_AGE": "59",
    "GREENWEB_GRID_INTENSITY": "bogus",
    "GREENWEB_GREEN_HOSTING": "2",
    "GREENWEB_HOSTING_PROVIDER": "https://host.example/",
    "GREENWEB_SECURITY_CONTACT": "HTTPS://[",
    "GREENWEB_MAX_BODY_BYTES": "10",
    "GREENWEB_PAGE_CACHE_BYTES": "-1",
    "GREENWEB_PAGE_MAX_AGE": "un minuto",
    "GREENWEB_SMTP_HOST": "smtp host",
    "GREENWEB_SMTP_PORT": "0",
    "GREENWEB_SMTP_USERNAME": "nome\x07",
    "GREENWEB_SMTP_PASSWORD": "chiave\x07",
    "GREENWEB_SMTP_TLS": "ssl",
    "GREENWEB_MAIL_FROM": "a@example.org, b@example.org",
    "GREENWEB_MAIL_RATE_PER_MINUTE": "0",
    "GREENWEB_MAIL_DELIVERY": "sempre",
    "GREENWEB_DATA_LICENSE": "CC BY 4.0",
}


def test_every_setting_has_a_bad_value_below() -> None:
    assert sorted(BAD_VALUES) == sorted(s.env for s in SETTINGS)


# Every command a bad setting must stop, subcommands included: {name: command line}.
COMMAND_LINES = {
    "serve": ["serve"],
    "serve --workers": ["serve", "--workers", "2"],
    "migrate": ["migrate"],
    "import": ["import"],
    "staff add": ["staff", "add", "anna", "--role", "redattore"],
    "staff list": ["staff", "list"],
    "staff remove": ["staff", "remove", "anna"],
    "staff roles": ["staff", "roles", "anna", "moderatore"],
    "bulletin export": ["bulletin", "export", "bollettino"],
    "moderator add": ["moderator", "add", "anna"],
    "moderator list": ["moderator", "list"],
    "moderator remove": ["moderator", "remove", "anna"],
    "questions export": ["questions", "export"],
    "ebook": ["ebook", "dubbi.epub"],
    "footprint": ["footprint"],
    "backup": ["backup", "copia.db"],
    "restore": ["restore", "copia.db"],
    "export": ["export", "sito"],
    "newsletter send": ["newsletter", "send"],
    "newsletter subscribers": ["newsletter", "subscribers", "export"],
    "newsletter forget": ["newsletter", "forget", "anna@example.org"],
}


def command_names(parser: argparse.ArgumentParser) -> set[str]:
    """Every command of ``parser``, nested ones as "moderator add"."""
    names = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                nested = command_names(sub)
                names |= {f"{name} {n}" for n in nested} if nested else {name}
    return names


def test_every_command_is_run_with_a_bad_setting_below() -> None:
    assert command_names(build_parser()) <= set(COMMAND_LINES)


@pytest.mark.parametrize(("variable", "value"), sorted(BAD_VALUES.items()))
@pytest.mark.parametrize("command", COMMAND_LINES.values(), ids=COMMAND_LINES.keys())
def test_a_bad_setting_exits_2_with_one_line_naming_the_variable(
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    command: list[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(command) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"greenweb: configuration: {variable}: ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err
    assert not db_path.exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("GREENWEB_GRID_INTENSITY", "bogus"), ("GREENWEB_SECURITY_CONTACT", "HTTPS://[")],
)
def test_greenweb_serve_refuses_a_bad_setting_without_a_traceback(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENWEB_")}
    env.update({"GREENWEB_DB": str(tmp_path / "g.db"), variable: value})
    done = subprocess.run(
        [sys.executable, "-m", "greenweb", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"greenweb: configuration: {variable}: ")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "g.db").exists()


def test_secret_file_is_created_next_to_greenweb_db(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GREENWEB_DB", str(tmp_path / "x.db"))
    monkeypatch.delenv("GREENWEB_SECRET", raising=False)
    assert main(["migrate"]) == 0
    assert (tmp_path / "x.db.secret").read_text().strip()


@pytest.mark.slow
def test_serve_answers_on_127_0_0_1(db_path: Path, tmp_path: Path) -> None:
    assert main(["import", str(SEED_DIR)]) == 0
    # No --host: the address comes from GREENWEB_HOST.
    command = greenweb_serve("--log-level", "warning", host_option=False)
    server = LiveServer(
        tmp_path / "server", command, db_path=db_path, settings={"GREENWEB_HOST": "127.0.0.1"}
    )
    with server:
        health = server.get("/healthz")
        assert health.status_code == 200
        assert health.json() | {"pid": 0} == {"status": "ok", "bulletin_items": 12, "pid": 0}
        home = server.get("/")
        assert home.status_code == 200
        assert "server" not in home.headers
