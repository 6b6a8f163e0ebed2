"""``greenweb migrate`` and ``greenweb import``: the schema, and the bulletin's files."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from greenweb.bulletin.importer import ImportAborted, import_directory
from greenweb.cli import board as board_cli
from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.output import EXIT_OK, complain
from greenweb.config import Settings
from greenweb.db import connect, migrate, with_database
from greenweb.paths import default_bulletin_dir


async def apply_migrations(settings: Settings) -> list[str]:
    conn = await connect(settings.db_path)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def migrate_command(args: argparse.Namespace, settings: Settings) -> int:
    """Create or upgrade the database.

    Apply the database migrations not applied yet, then load the question board's topics
    and seed resources (data/topics.toml, data/resources.toml). Safe to run twice."""
    applied = asyncio.run(apply_migrations(settings))
    if applied:
        for name in applied:
            print(f"applied {name}")
    else:
        print(f"{settings.db_path}: already up to date")
    try:
        print(board_cli.describe_seed(board_cli.load_data(settings)))
    except ValueError as error:
        return complain("migrate", error)
    return EXIT_OK


def _import(settings: Settings, directory: Path) -> str:
    report = with_database(settings.db_path, lambda db: import_directory(db, directory))
    return (
        f"{directory}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged"
    )


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Load the bulletin's Markdown files into the database.

    Validate every *.md file of DIRECTORY, then load them all in one transaction: new
    slugs are added, changed files updated, items whose file is gone removed. Any invalid
    file aborts the whole import and changes nothing."""
    try:
        print(_import(settings, args.directory))
    except ImportAborted as aborted:
        return complain("import", *aborted.errors, "nothing was changed")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    add_command(commands, "migrate", migrate_command)
    imp = add_command(commands, "import", import_command)
    imp.add_argument(
        "directory",
        nargs="?",
        type=Path,
        default=default_bulletin_dir(),
        help="folder of bulletin files (default: data/bulletin)",
    )
