"""`greenweb staff` (accounts and their roles) and `greenweb moderator` (the board's
accounts, as they were before roles): bad input is one line and exit 2, a refusal by the
database exit 1, and neither changes anything."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator

import pytest

from greenweb import cli
from greenweb.config import Settings
from support.board import (
    PASSWORD,
    add_moderator,
    add_staff,
    cheap_password_hashing,
    query,
)
from support.moderation import cli_env

ACCOUNT_TABLES = ("moderators", "staff_roles", "moderator_sessions")


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


def accounts(settings: Settings) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the account tables (a refused command must leave them all as they were)."""
    return {
        table: query(settings, f"SELECT * FROM {table} ORDER BY 1, 2") for table in ACCOUNT_TABLES
    }


def roles_of(settings: Settings) -> dict[str, list[str]]:
    rows = query(
        settings,
        "SELECT m.name, r.role FROM moderators m JOIN staff_roles r ON r.moderator_id = m.id "
        "ORDER BY m.name, r.role",
    )
    found: dict[str, list[str]] = {}
    for name, role in rows:
        found.setdefault(name, []).append(role)
    return found


def run(
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    """`greenweb ARGV` with ``stdin``: (exit status, stdout, stderr)."""
    capsys.readouterr()
    cli_env(monkeypatch, settings, stdin)
    status = cli.main(argv)
    out, err = capsys.readouterr()
    return status, out, err


# --- greenweb staff -----------------------------------------------------------------------


def test_staff_add_list_roles_remove(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add_staff(monkeypatch, settings, "anna", "redattore", "moderatore") == 0
    assert "staff anna added (moderatore, redattore)" in capsys.readouterr().out
    assert add_staff(monkeypatch, settings, "lucia", "redattore") == 0
    assert roles_of(settings) == {"anna": ["moderatore", "redattore"], "lucia": ["redattore"]}
    stored = query(settings, "SELECT password_hash FROM moderators")
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for (h,) in stored)

    status, out, _ = run(monkeypatch, settings, capsys, ["staff", "list"])
    assert status == 0
    lines = out.splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        ["anna", "moderatore,redattore"],
        ["lucia", "redattore"],
    ]
    assert all(line.split("\t")[2].startswith("since ") for line in lines)

    status, out, _ = run(monkeypatch, settings, capsys, ["staff", "roles", "lucia", "moderatore"])
    assert status == 0 and out == "staff lucia: moderatore\n"
    status, out, _ = run(
        monkeypatch, settings, capsys, ["staff", "roles", "anna", "redattore", "redattore"]
    )
    assert status == 0 and out == "staff anna: redattore\n"
    assert roles_of(settings) == {"anna": ["redattore"], "lucia": ["moderatore"]}

    status, out, _ = run(monkeypatch, settings, capsys, ["staff", "remove", "anna"])
    assert status == 0 and "staff anna removed" in out
    assert roles_of(settings) == {"lucia": ["moderatore"]}
    assert query(settings, "SELECT name FROM moderators") == [("lucia",)]


USAGE = 2  # bad input: the command line cannot be used as it is
REFUSED = 1  # the accounts say no (a taken name, nobody of that name)


@pytest.mark.parametrize(
    ("argv", "stdin", "status", "message"),
    [
        # No password is read before the roles are known to be right.
        (["staff", "add", "bruno"], "", USAGE, "staff add: --role: give at least one role"),
        (
            ["staff", "add", "bruno", "--role", "capo"],
            "",
            USAGE,
            "staff add: --role: unknown role 'capo'",
        ),
        (
            ["staff", "add", "bruno", "--role", "redattore", "--role", "Moderatore"],
            PASSWORD + "\n",
            USAGE,
            "staff add: --role: unknown role 'Moderatore'",
        ),
        (["staff", "add", "_x", "--role", "redattore"], PASSWORD, USAGE, "staff add: _x: name:"),
        (["staff", "add", "bruno", "--role", "redattore"], "corta\n", USAGE, "too short"),
        (["staff", "add", "bruno", "--role", "redattore"], "", USAGE, "no password on stdin"),
        (["staff", "roles", "anna"], "", USAGE, "staff roles: ROLE: give at least one role"),
        (["staff", "roles", "anna", "capo"], "", USAGE, "staff roles: ROLE: unknown role 'capo'"),
        (["staff", "add", "ANNA", "--role", "redattore"], PASSWORD, REFUSED, "already exists"),
        (["staff", "remove", "nessuno"], "", REFUSED, "'nessuno': no such staff account"),
        (["staff", "roles", "nessuno", "redattore"], "", REFUSED, "no such staff account"),
        # `greenweb moderator` as it always was: every problem is exit 1.
        (["moderator", "add", "anna"], "corta\n", REFUSED, "password: too short"),
        (["moderator", "add", "anna"], "", REFUSED, "no password on stdin"),
        (["moderator", "add", "anna"], " spazi intorno \n", REFUSED, "not start or end with"),
        (["moderator", "add", "_x"], PASSWORD + "\n", REFUSED, "name"),
        (["moderator", "add", "nome con spazi"], PASSWORD + "\n", REFUSED, "name"),
        (["moderator", "add", "ANNA"], PASSWORD + "\n", REFUSED, "already exists"),
        (["moderator", "remove", "nessuno"], "", REFUSED, "no such moderator"),
    ],
)
def test_a_refused_command_says_why_in_one_line_and_changes_nothing(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    status: int,
    message: str,
) -> None:
    assert add_moderator(monkeypatch, settings, "anna") == 0
    before = accounts(settings)
    got, out, err = run(monkeypatch, settings, capsys, argv, stdin)
    assert got == status
    assert out == ""
    assert len(err.splitlines()) == 1
    command = "moderator" if argv[0] == "moderator" else f"staff {argv[1]}"
    assert err.startswith(f"greenweb {command}: ") and message in err
    assert "Traceback" not in err
    assert accounts(settings) == before


def test_staff_help_names_the_roles(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["staff", "--help"], ["staff", "add", "--help"], ["staff", "roles", "--help"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: greenweb {' '.join(argv[:-1])}")
        assert "redattore" in out and "moderatore" in out


# --- greenweb moderator, beside the staff -------------------------------------------------


def test_moderator_commands_see_only_moderators(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert add_moderator(monkeypatch, settings, "anna") == 0
    assert add_staff(monkeypatch, settings, "lucia", "redattore") == 0
    assert add_staff(monkeypatch, settings, "marco", "redattore", "moderatore") == 0
    assert roles_of(settings)["anna"] == ["moderatore"]

    status, out, _ = run(monkeypatch, settings, capsys, ["moderator", "list"])
    assert status == 0
    assert [line.split("\t")[0] for line in out.splitlines()] == ["anna", "marco"]

    before = accounts(settings)
    status, _, err = run(monkeypatch, settings, capsys, ["moderator", "remove", "lucia"])
    assert status == 1 and err == "greenweb moderator: 'lucia': no such moderator\n"
    assert accounts(settings) == before
    status, _, err = run(monkeypatch, settings, capsys, ["moderator", "add", "Lucia"], PASSWORD)
    assert status == 1 and "already exists" in err
    assert accounts(settings) == before

    status, _, _ = run(monkeypatch, settings, capsys, ["moderator", "remove", "marco"])
    assert status == 0
    assert sorted(roles_of(settings)) == ["anna", "lucia"]


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
