"""``greenweb ebook OUT.epub``: the board's answered questions as an EPUB 3, the same file
``/domande/ebook.epub`` serves (:mod:`greenweb.board.ebook`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from greenweb.board.ebook import site_ebook
from greenweb.cli.commands import Subcommands, add_command
from greenweb.cli.output import EXIT_OK, complain
from greenweb.config import Settings
from greenweb.db import with_database


def ebook_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the board's e-book (EPUB 3).

    Write the answered, published questions of the board as an EPUB 3 file: a chapter per
    topic, the theatre pieces and a colophon. The same content gives the same bytes, the
    ones /domande/ebook.epub serves."""
    out: Path = args.output
    if not out.parent.is_dir():
        return complain("ebook", f"{out}: the folder {out.parent} does not exist")
    data = with_database(settings.db_path, lambda db: site_ebook(db.reader, settings))
    try:
        out.write_bytes(data)
    except OSError as error:
        return complain("ebook", f"{out}: {error.strerror}")
    print(f"{out}: {len(data):,} bytes")
    return EXIT_OK


def register(commands: Subcommands) -> None:
    parser = add_command(commands, "ebook", ebook_command)
    parser.add_argument("output", type=Path, metavar="OUT.epub", help="file to write")
