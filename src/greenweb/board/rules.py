"""The moderation rules in public (``/domande/regole``): ``data/regole.md``, beside the
board's other data files, which the staff may change. Read and rendered once when the app
starts (a change shows after a restart, like ``topics.toml``); a missing, unreadable or
empty file stops the start with one line naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from greenweb.board.data_files import DataFileError
from greenweb.markup import render_markdown
from greenweb.paths import board_data_dir

RULES_FILE: Final = "regole.md"


def rules_path() -> Path:
    return board_data_dir() / RULES_FILE


def load_rules(path: Path | None = None) -> str:
    """The rules file rendered to HTML (by :mod:`greenweb.markup`, so raw HTML stays text)."""
    path = path or rules_path()
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataFileError(path, "file", "not found") from None
    except UnicodeDecodeError:
        raise DataFileError(path, "file", "not valid UTF-8") from None
    except OSError as error:
        raise DataFileError(path, "file", f"cannot be read: {error.strerror}") from None
    if not source.strip():
        raise DataFileError(path, "file", "is empty: write the moderation rules in Markdown")
    return render_markdown(source)
