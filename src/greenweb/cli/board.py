"""The board's commands: ``greenweb moderator add|list|remove`` and
``greenweb questions export``, registered in ``cli.COMMAND_GROUPS``.

Passwords are read with getpass (asked twice) when stdin is a terminal, otherwise as one
line of stdin, so scripts can do ``printf '%s\\n' "$PW" | greenweb moderator add anna``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import aiosqlite

from greenweb import security
from greenweb.board import moderators
from greenweb.board.export import export_questions, to_csv, to_json
from greenweb.board.questions import STATES
from greenweb.board.seed import SeedReport, load_board_data
from greenweb.cli.commands import Subcommands, add_command_group
from greenweb.cli.output import complain
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.paths import board_data_dir

T = TypeVar("T")


class CommandError(Exception):
    """A problem to report on stderr as ``greenweb <command>: <message>``."""


def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    return with_database(settings.db_path, work)


# --- board data (called by `greenweb migrate`) ----------------------------------------------


def load_data(settings: Settings) -> SeedReport:
    return _with_db(settings, lambda db: load_board_data(db, board_data_dir(), time.time()))


def describe_seed(report: SeedReport) -> str:
    topics = "topics updated" if report.topics_changed else "topics unchanged"
    return f"{board_data_dir()}: {topics}, {report.resources_changed} resources added or updated"


# --- moderators ---------------------------------------------------------------------------


def read_password(stdin: IO[str] | None = None) -> str:
    stream = stdin or sys.stdin
    if stream.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != first:
            raise CommandError("the two passwords differ")
        return first
    line = stream.readline()
    if not line:
        raise CommandError("no password on stdin")
    return line.rstrip("\r\n")


def _change_moderators(
    settings: Settings, change: Callable[[aiosqlite.Connection], Awaitable[Any]]
) -> None:
    """Run ``change`` in one transaction; a ModeratorError becomes a CommandError."""

    async def work(db: Database) -> None:
        async with db.transaction() as conn:
            await change(conn)

    try:
        _with_db(settings, work)
    except moderators.ModeratorError as error:
        raise CommandError(str(error)) from None


def add_moderator(settings: Settings, name: str, password: str) -> None:
    problem = moderators.check_name(name)
    if problem:
        raise CommandError(f"{name}: name: {problem}")
    problem = security.password_problem(password)
    if problem:
        raise CommandError(f"{name}: password: {problem}")
    password_hash = security.hash_password(password)
    _change_moderators(
        settings, lambda conn: moderators.add(conn, name, password_hash, time.time())
    )


def remove_moderator(settings: Settings, name: str) -> None:
    _change_moderators(settings, lambda conn: moderators.remove(conn, name))


def moderator_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add, list or remove the moderators of the question board.

    Manage moderator accounts (passwords are stored as argon2id hashes)."""
    try:
        if args.action == "add":
            add_moderator(settings, args.name, read_password())
            print(f"moderator {args.name} added")
        elif args.action == "remove":
            remove_moderator(settings, args.name)
            print(f"moderator {args.name} removed (and logged out)")
        else:
            for moderator in _with_db(settings, lambda db: moderators.list_all(db.reader)):
                print(f"{moderator.name}\tsince {moderator.created_at:%Y-%m-%d}")
    except CommandError as error:
        return complain("moderator", error)
    return 0


# --- export -------------------------------------------------------------------------------


def export_records(settings: Settings, states: list[str]) -> list[dict[str, Any]]:
    return _with_db(settings, lambda db: export_questions(db.reader, states))


def questions_command(args: argparse.Namespace, settings: Settings) -> int:
    """Export the question board's questions.

    Export questions for the people who write the theatre pieces."""
    states = list(STATES) if args.all else list(dict.fromkeys(args.state or ["pubblicata"]))
    records = export_records(settings, states)
    text = to_csv(records) if args.format == "csv" else to_json(records)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as error:
            return complain("questions export", f"{args.output}: {error.strerror}")
        print(f"{args.output}: {len(records)} questions", file=sys.stderr)
    return 0


# --- registration -------------------------------------------------------------------------


def register(commands: Subcommands) -> None:
    actions = add_command_group(commands, "moderator", moderator_command)
    add = actions.add_parser(
        "add",
        help="add a moderator",
        description="Add a moderator. The password is asked twice on a terminal, or read "
        f"as one line of stdin; at least {security.MIN_PASSWORD_CHARS} characters.",
    )
    add.add_argument("name", help="login name: letters, digits, '.', '_' or '-'")
    actions.add_parser("list", help="list moderators")
    remove = actions.add_parser("remove", help="remove a moderator and end their sessions")
    remove.add_argument("name")

    actions = add_command_group(commands, "questions", questions_command)
    export = actions.add_parser(
        "export",
        help="write questions as CSV or JSON",
        description="Write questions (default: the published ones) as CSV or JSON, oldest "
        "first. Nothing about who voted or reported is included.",
    )
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--output", type=Path, help="file to write (default: stdout)")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every question, whatever its state")
    which.add_argument(
        "--state",
        action="append",
        choices=STATES,
        help="only questions in this state (repeatable; default: pubblicata)",
    )
