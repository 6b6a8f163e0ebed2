"""``greenweb backup`` and ``greenweb restore``: the database copied and put back, checked."""

from __future__ import annotations

import argparse
from pathlib import Path

from greenweb.backup import BackupError, backup_database, restore_database
from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.output import EXIT_OK, complain
from greenweb.config import Settings


def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the database to a file, safely while the server runs.

    Copy the database (GREENWEB_DB) to PATH with SQLite's online backup, safe while the
    server is serving and writing, then check the copy's integrity. PATH must not exist
    unless --force is given. The secret file next to the database is not copied."""
    try:
        info = backup_database(settings.db_path, args.path, force=args.force)
    except BackupError as error:
        return complain("backup", error)
    print(
        f"{info.path}: backup of {settings.db_path} ok "
        f"({info.size} bytes, schema version {info.user_version}, integrity ok)"
    )
    return EXIT_OK


def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    """Replace the database with a backup (stop the server first).

    Check that PATH is an intact greenweb database, then make it the database
    (GREENWEB_DB) in one atomic step, keeping the old one as GREENWEB_DB.bak. Run it only
    while no server is running: it refuses when the database is open."""
    try:
        report = restore_database(args.path, settings.db_path)
    except BackupError as error:
        return complain("restore", error, "nothing was changed")
    kept = f"; the previous one is kept as {report.previous}" if report.previous else ""
    print(f"{settings.db_path}: restored from {args.path}{kept}")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    backup = add_command(commands, "backup", backup_command)
    backup.add_argument("path", type=Path, metavar="PATH", help="file to create")
    backup.add_argument("--force", action="store_true", help="replace PATH if it exists")

    restore = add_command(commands, "restore", restore_command)
    restore.add_argument("path", type=Path, metavar="PATH", help="backup file to restore")
