"""How a ``greenweb`` command is declared: a name and a handler. The handler's docstring is
the command's help: its first line is the summary ``greenweb --help`` lists, the whole of
it the description ``greenweb COMMAND --help`` prints. The text a reader of the code sees
is the text a user sees."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import TypeAlias

from greenweb.config import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
# A string: argparse._SubParsersAction is generic only to type checkers.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(commands: Subcommands, name: str, handler: Handler) -> argparse.ArgumentParser:
    """Add command ``name``, run by ``handler``; returns its parser, for its arguments."""
    doc = inspect.getdoc(handler)
    if not doc:
        raise TypeError(f"{handler.__qualname__} needs a docstring: it is the help of {name}")
    summary = doc.split("\n", 1)[0].rstrip(".")
    parser = commands.add_parser(name, help=summary, description=doc)
    parser.set_defaults(handler=handler)
    return parser


def add_command_group(commands: Subcommands, name: str, handler: Handler) -> Subcommands:
    """A command whose first argument is an ACTION; returns the parser of its actions."""
    group = add_command(commands, name, handler)
    return group.add_subparsers(dest="action", required=True, metavar="ACTION")
