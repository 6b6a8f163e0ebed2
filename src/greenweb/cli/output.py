"""How every ``greenweb`` command reports: problems on stderr, one line each, and its exit
status. A command never shows a traceback for bad input."""

from __future__ import annotations

import sys
from typing import Final

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1  # the work could not be done: nothing was changed
EXIT_USAGE: Final = 2  # the command line or a setting is unusable


def complain(command: str, *problems: object, status: int = EXIT_FAILED) -> int:
    """Print ``greenweb COMMAND: PROBLEM`` for each problem; return ``status``."""
    prefix = f"greenweb {command}" if command else "greenweb"
    for problem in problems:
        print(f"{prefix}: {problem}", file=sys.stderr)
    return status
