"""How a ``greenweb`` command is declared: a name, a one-line help for ``greenweb --help``,
and a handler whose docstring is the command's own ``--help`` description, so the text a
reader of the code sees is the text a user sees."""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable
from typing import TypeAlias

from greenweb.config import Settings

Handler = Callable[[argparse.Namespace, Settings], int]
# A string: argparse._SubParsersAction is generic only to type checkers.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(
    commands: Subcommands, name: str, handler: Handler, *, help: str
) -> argparse.ArgumentParser:
    """Add command ``name``, run by ``handler``; returns its parser, for its arguments."""
    parser = commands.add_parser(name, help=help, description=inspect.getdoc(handler))
    parser.set_defaults(handler=handler)
    return parser


def add_command_group(
    commands: Subcommands, name: str, handler: Handler, *, help: str
) -> Subcommands:
    """A command whose first argument is an ACTION; returns the parser of its actions."""
    group = add_command(commands, name, handler, help=help)
    return group.add_subparsers(dest="action", required=True, metavar="ACTION")
