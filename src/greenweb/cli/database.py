"""``greenweb migrate`` and ``greenweb import``: the schema, and the bulletin's files."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from greenweb.bulletin.importer import ImportAborted, ImportReport, import_directory
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


def describe_import(directory: Path, report: ImportReport) -> list[str]:
    """What ``greenweb import`` prints: the counts, then one line per other fact."""
    lines = [
        f"{directory}: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged"
    ]
    if report.overwritten:
        lines.append(
            f"overwritten, edited on the site since their last import: "
            f"{', '.join(report.overwritten)}"
        )
    if report.skipped:
        lines.append(
            f"skipped, edited on the site since their last import: {', '.join(report.skipped)}"
        )
        lines.append("greenweb import --force overwrites them with their files")
    if report.kept:
        lines.append(f"kept, edited on the site and without a file here: {', '.join(report.kept)}")
    if report.numeri:
        numbers = ", ".join(str(n) for n in report.numeri)
        lines.append(f"numeri.toml: numero {numbers} published from the file")
    return lines


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Load the bulletin's Markdown files into the database.

    Validate every *.md file of DIRECTORY, then load them all in one transaction: new
    slugs are added, changed files updated, items whose file is gone removed. Any invalid
    file aborts the whole import and changes nothing. Items edited on the site since their
    last import are skipped, and items made on the site kept; --force overwrites the edited
    ones with their files (their edits stay in the item's revisions)."""
    directory: Path = args.directory
    try:
        report = with_database(
            settings.db_path, lambda db: import_directory(db, directory, force=args.force)
        )
    except ImportAborted as aborted:
        return complain("import", *aborted.errors, "nothing was changed")
    for line in describe_import(directory, report):
        print(line)
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
    imp.add_argument(
        "--force",
        action="store_true",
        help="overwrite items edited on the site with their files",
    )
