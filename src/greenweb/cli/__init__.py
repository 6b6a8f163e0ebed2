"""The ``greenweb`` command: one module per command group, assembled here.

Every command reads settings from the environment (see ``greenweb --help``), reports
problems on stderr as one ``greenweb COMMAND: problem`` line each (``cli/output.py``), and
exits non-zero on failure: 2 for an unusable command line or setting, never a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from greenweb import __version__
from greenweb.board.data_files import DataFileError
from greenweb.cli import backup, database, serve
from greenweb.cli import board as board_cli
from greenweb.cli import bulletin as bulletin_cli
from greenweb.cli import ebook as ebook_cli
from greenweb.cli import footprint as footprint_cli
from greenweb.cli import newsletter as newsletter_cli
from greenweb.cli import staff as staff_cli
from greenweb.cli.commands import Handler, Subcommands
from greenweb.cli.export import register as register_export
from greenweb.cli.output import EXIT_USAGE, complain
from greenweb.config import SETTINGS, Settings, SettingsError

Register = Callable[[Subcommands], None]

# The command groups, in the order `greenweb --help` lists them.
COMMAND_GROUPS: tuple[Register, ...] = (
    serve.register,
    database.register,
    staff_cli.register,
    bulletin_cli.register,
    board_cli.register,
    ebook_cli.register,
    footprint_cli.register,
    newsletter_cli.register,
    backup.register,
    register_export,
)


def settings_epilog() -> str:
    lines = ["settings (environment variables):"]
    for setting in SETTINGS:
        default = f" (default: {setting.default})" if setting.default else ""
        lines.append(f"  {setting.env}{default}\n      {setting.help}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenweb",
        description="A low-footprint, JavaScript-free bulletin and climate question board.",
        epilog=settings_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"greenweb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for register in COMMAND_GROUPS:
        register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        return complain("", f"configuration: {error}", status=EXIT_USAGE)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except DataFileError as error:
        # A board data file the app reads when it starts (data/regole.md, for one).
        return complain(args.command, error)
