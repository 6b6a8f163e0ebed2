"""The board's commands: ``greenweb questions export``, registered in
``cli.COMMAND_GROUPS``, and the board's data files that ``greenweb migrate`` loads. The
moderators' accounts are staff accounts: ``cli/staff.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from greenweb.board.export import DataSet, export_questions, to_csv, to_json
from greenweb.board.questions import STATES
from greenweb.board.seed import SeedReport, load_board_data
from greenweb.cli.commands import Subcommands, add_command_group
from greenweb.cli.output import complain
from greenweb.config import Settings
from greenweb.db import Database, with_database
from greenweb.paths import board_data_dir

T = TypeVar("T")


def _with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    return with_database(settings.db_path, work)


# --- board data (called by `greenweb migrate`) ----------------------------------------------


def load_data(settings: Settings) -> SeedReport:
    return _with_db(settings, lambda db: load_board_data(db, board_data_dir(), time.time()))


def describe_seed(report: SeedReport) -> str:
    topics = "topics updated" if report.topics_changed else "topics unchanged"
    return f"{board_data_dir()}: {topics}, {report.resources_changed} resources added or updated"


# --- export -------------------------------------------------------------------------------


def export_records(settings: Settings, states: list[str]) -> DataSet:
    return _with_db(
        settings,
        lambda db: export_questions(db.reader, states, licence=settings.data_license),
    )


def questions_command(args: argparse.Namespace, settings: Settings) -> int:
    """Export the question board's questions.

    Export questions for the people who write the theatre pieces. By default the
    published ones, exactly as /domande/dati.csv and /domande/dati.json serve them; with
    --all or --state also when each arrived and its text as sent."""
    states = list(STATES) if args.all else list(dict.fromkeys(args.state or ["pubblicata"]))
    data = export_records(settings, states)
    body = to_csv(data) if args.format == "csv" else to_json(data)
    if args.output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        try:
            args.output.write_bytes(body)
        except OSError as error:
            return complain("questions export", f"{args.output}: {error.strerror}")
        print(f"{args.output}: {len(data.records)} questions", file=sys.stderr)
    return 0


# --- registration -------------------------------------------------------------------------


def register(commands: Subcommands) -> None:
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
