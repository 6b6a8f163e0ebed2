"""The staff's commands: ``greenweb staff add|list|remove|roles``, and the board's
``greenweb moderator add|list|remove`` as they were before roles existed (an account with
the moderatore role), registered in ``cli.COMMAND_GROUPS``.

Passwords are read with getpass (asked twice) when stdin is a terminal, otherwise as one
line of stdin, so scripts can do ``printf '%s\\n' "$PW" | greenweb staff add anna --role
redattore``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import IO, TypeVar

import aiosqlite

from greenweb import security, staff
from greenweb.cli.commands import Subcommands, add_command_group
from greenweb.cli.output import EXIT_FAILED, EXIT_USAGE, complain
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.staff import MODERATORE, ROLES

T = TypeVar("T")
ROLE_HELP = f"one of {', '.join(ROLES)}"


class CommandError(Exception):
    """A problem to report on stderr as ``greenweb <command>: <message>``."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


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


def _change(settings: Settings, change: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
    """Run ``change`` in one transaction; a StaffError (the database said no: the name is
    taken, or there is no such account) becomes a CommandError with exit status 1."""

    async def work(db: Database) -> T:
        async with db.transaction() as conn:
            return await change(conn)

    try:
        return with_database(settings.db_path, work)
    except staff.StaffError as error:
        raise CommandError(str(error), EXIT_FAILED) from None


def check_name(name: str) -> None:
    problem = staff.check_name(name)
    if problem:
        raise CommandError(f"{name}: name: {problem}")


def check_roles(roles: Iterable[str], argument: str) -> list[str]:
    chosen = list(dict.fromkeys(roles))
    problem = staff.check_roles(chosen)
    if problem:
        raise CommandError(f"{argument}: {problem}")
    return chosen


def add_account(settings: Settings, name: str, password: str, roles: list[str]) -> None:
    check_name(name)
    problem = security.password_problem(password)
    if problem:
        raise CommandError(f"{name}: password: {problem}")
    password_hash = security.hash_password(password)
    _change(settings, lambda conn: staff.add(conn, name, password_hash, time.time(), roles))


def list_accounts(settings: Settings, role: str | None = None) -> list[staff.StaffMember]:
    return with_database(settings.db_path, lambda db: staff.list_all(db.reader, role))


# --- greenweb staff -----------------------------------------------------------------------


def staff_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add, list or remove staff accounts, and say what each may do.

    Manage the staff's accounts (passwords are stored as argon2id hashes) and their roles:
    moderatore moderates the question board, redattore writes the bulletin; one person may
    hold both, with one login for both areas."""
    try:
        if args.action == "add":
            check_name(args.name)
            roles = check_roles(args.role or [], "--role")
            add_account(settings, args.name, read_password(), roles)
            print(f"staff {args.name} added ({', '.join(r for r in ROLES if r in roles)})")
        elif args.action == "remove":
            _change(settings, lambda conn: staff.remove(conn, args.name))
            print(f"staff {args.name} removed (and logged out)")
        elif args.action == "roles":
            roles = check_roles(args.roles, "ROLE")
            member = _change(settings, lambda conn: staff.set_roles(conn, args.name, roles))
            print(f"staff {member.name}: {', '.join(member.sorted_roles)}")
        else:
            for member in list_accounts(settings):
                roles_text = ",".join(member.sorted_roles) or "-"
                print(f"{member.name}\t{roles_text}\tsince {member.created_at:%Y-%m-%d}")
    except CommandError as error:
        return complain(f"staff {args.action}", error, status=error.status)
    return 0


# --- greenweb moderator (the accounts of the board, as before roles) -----------------------


def moderator_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add, list or remove the moderators of the question board.

    Manage moderator accounts (passwords are stored as argon2id hashes): staff accounts
    with the moderatore role (see greenweb staff)."""
    try:
        if args.action == "add":
            add_account(settings, args.name, read_password(), [MODERATORE])
            print(f"moderator {args.name} added")
        elif args.action == "remove":
            _change(settings, lambda conn: staff.remove(conn, args.name, holding=MODERATORE))
            print(f"moderator {args.name} removed (and logged out)")
        else:
            for member in list_accounts(settings, MODERATORE):
                print(f"{member.name}\tsince {member.created_at:%Y-%m-%d}")
    except CommandError as error:
        return complain("moderator", error)  # exit 1 for every problem, as always
    return 0


# --- registration -------------------------------------------------------------------------


def _password_note() -> str:
    return (
        "The password is asked twice on a terminal, or read as one line of stdin; at least "
        f"{security.MIN_PASSWORD_CHARS} characters."
    )


def register(commands: Subcommands) -> None:
    name_help = "login name: letters, digits, '.', '_' or '-'"
    actions = add_command_group(commands, "staff", staff_command)
    add = actions.add_parser(
        "add",
        help="add a staff account with its roles",
        description=f"Add a staff account holding one or more roles. {_password_note()}",
    )
    add.add_argument("name", help=name_help)
    add.add_argument(
        "--role",
        action="append",
        metavar="ROLE",
        help=f"a role the account holds ({ROLE_HELP}); repeat for more; at least one",
    )
    actions.add_parser("list", help="list staff accounts and their roles")
    remove = actions.add_parser("remove", help="remove a staff account and end their sessions")
    remove.add_argument("name")
    roles = actions.add_parser(
        "roles",
        help="replace the roles of a staff account",
        description="Replace the roles of a staff account; they hold from its next page on.",
    )
    roles.add_argument("name")
    roles.add_argument("roles", nargs="*", metavar="ROLE", help=f"{ROLE_HELP}; at least one")

    actions = add_command_group(commands, "moderator", moderator_command)
    add = actions.add_parser(
        "add", help="add a moderator", description=f"Add a moderator. {_password_note()}"
    )
    add.add_argument("name", help=name_help)
    actions.add_parser("list", help="list moderators")
    remove = actions.add_parser("remove", help="remove a moderator and end their sessions")
    remove.add_argument("name")
