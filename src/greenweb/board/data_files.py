"""Reading the board's data files, ``data/topics.toml`` and ``data/resources.toml``.

Every problem is a ``DataFileError`` that names the file, the entry and the field, so
``greenweb migrate`` can print one line that says what to fix.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class DataFileError(ValueError):
    """A problem in data/topics.toml or data/resources.toml: ``file: field: problem``."""

    def __init__(self, path: Path | str, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}")


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataFileError(path, "file", "not found") from None
    except UnicodeDecodeError:
        raise DataFileError(path, "file", "not valid UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise DataFileError(path, "file", f"invalid TOML: {error}") from None


def read_tables(path: Path, name: str) -> list[Any]:
    """The ``[[name]]`` tables of a data file; there must be at least one."""
    entries = read_toml(path).get(name)
    if not isinstance(entries, list) or not entries:
        raise DataFileError(path, name, f"expected a list of [[{name}]] tables")
    return entries


def check_slug(path: Path, where: str, slug: object, *, max_chars: int) -> str:
    """``slug`` when it is lowercase words joined by hyphens, at most ``max_chars``."""
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > max_chars:
        raise DataFileError(path, f"{where}: slug", "lowercase letters, digits, hyphens")
    return slug
