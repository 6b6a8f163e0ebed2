"""The bulletin's commands: ``greenweb bulletin export DIR``, registered in
``cli.COMMAND_GROUPS`` (``greenweb import``, which reads the files back, is in
``cli/database.py``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from greenweb.bulletin.file_writer import ExportRefused, LeftOut, export_bulletin
from greenweb.cli.commands import Subcommands, add_command_group
from greenweb.cli.output import EXIT_OK, EXIT_USAGE, complain
from greenweb.config import Settings
from greenweb.db import with_database


def left_out_line(left_out: list[LeftOut]) -> str:
    listed = ", ".join(f"{item.slug} ({item.state})" for item in left_out)
    return f"left out {len(left_out)} items not published: {listed}"


def export(args: argparse.Namespace, settings: Settings) -> int:
    directory: Path = args.directory
    try:
        report = with_database(
            settings.db_path,
            lambda db: export_bulletin(db.reader, directory, overwrite=args.overwrite),
        )
    except ExportRefused as refused:
        return complain("bulletin export", refused, status=EXIT_USAGE)
    except OSError as error:
        return complain("bulletin export", f"{error.filename or directory}: {error.strerror}")
    print(f"{directory}: {len(report.written)} items written")
    if report.removed:
        print(
            f"removed {len(report.removed)} .md files that are not in this export: "
            f"{', '.join(report.removed)}"
        )
    if report.left_out:
        print(left_out_line(report.left_out))
    return EXIT_OK


def bulletin_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the bulletin's published items as files.

    export DIR writes every published item as the Markdown file with TOML front matter
    that `greenweb import` reads (NN-slug.md), so the items edited on the site can go back
    into git. Exporting the same items twice gives the same bytes."""
    return export(args, settings)


def register(commands: Subcommands) -> None:
    actions = add_command_group(commands, "bulletin", bulletin_command)
    parser = actions.add_parser(
        "export",
        help="write the published items as bulletin files",
        description="Write every published item as NN-slug.md, the Markdown and TOML front "
        "matter `greenweb import` reads. DIR must be empty or new. Drafts, scheduled and "
        "withdrawn items are left out (and named). Items imported before the Markdown was "
        "kept cannot be written: run `greenweb import` first.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="folder to write")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder that is not empty: its *.md files become this export's "
        "(those of other items are removed), other files stay",
    )
