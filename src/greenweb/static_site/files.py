"""The files of an export: where a URL is written, and writing only what changed.

A re-export of the same content must leave the folder as it was: a file whose bytes are
unchanged is not touched (its mtime stays, so nginx's ``ETag`` and ``Last-Modified``, made
from the mtime and size, stay valid and browsers keep getting 304s), a changed file is
written to a hidden temporary name in its own folder and renamed over the old one when the
whole crawl has succeeded (a rename is atomic: nginx serves the old file or the new one,
never half of one), and the files of pages that are gone are removed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote

# Query strings that may become part of a file name: no "/", so no path tricks.
SAFE_QUERY: Final = re.compile(r"[A-Za-z0-9=&%_.+~-]+")
# Changed files wait under this suffix until the export commits (a dot file: nginx's
# try_files never maps a clean URL to it).
STAGED_SUFFIX: Final = ".greenweb-new"


def file_name(target: str, content_type: str | None) -> str | None:
    """Where ``target`` (path and query) is written inside ``site/``; None if it cannot be.

    ``/`` -> ``index.html``; ``/bollettino`` -> ``bollettino.html``; ``/feed.xml`` -> itself;
    with a query, ``/bollettino?tipo=bando&page=2`` -> ``bollettino@tipo=bando&page=2.html``
    (the raw query string, only when it holds no ``/`` or other unsafe character).
    """
    path, _, query = target.partition("?")
    path = unquote(path)
    if not path.startswith("/") or "\x00" in path:
        return None
    segments = path[1:].split("/") if path != "/" else ["index"]
    if any(s in ("", ".", "..") for s in segments):
        return None
    last = segments[-1]
    has_extension = "." in last
    if query:
        if has_extension or not SAFE_QUERY.fullmatch(query):
            return None
        last = f"{last}@{query}"
    if not has_extension:
        if not (content_type or "").startswith("text/html"):
            return None
        last += ".html"
    return "/".join([*segments[:-1], last])


def staged_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{STAGED_SUFFIX}")


def same_bytes(path: Path, body: bytes) -> bool:
    """Whether ``path`` is a file holding exactly ``body``."""
    try:
        if path.stat().st_size != len(body):
            return False
        return path.read_bytes() == body
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False


def replace_if_changed(path: Path, body: bytes) -> bool:
    """Write ``path`` through a temporary file and a rename, unless it holds ``body``
    already; whether it was written."""
    if same_bytes(path, body):
        return False
    staged = staged_path(path)
    staged.write_bytes(body)
    os.replace(staged, path)
    return True


@dataclass
class FileCounts:
    """What one export did: its ``files`` and their ``bytes``, of which ``written`` (new or
    changed, ``written_bytes`` long) and ``unchanged``; and ``removed``, the files of an
    earlier export that this one no longer has."""

    files: int = 0
    bytes: int = 0
    written: int = 0
    written_bytes: int = 0
    unchanged: int = 0
    removed: int = 0


@dataclass
class SiteFiles:
    """The files one export puts under ``root``, compared with what is there already.

    :meth:`put` stages changed files; :meth:`commit` renames them into place and removes
    every file this export did not put; :meth:`discard` forgets them, leaving the folder
    as it was.
    """

    root: Path
    counts: FileCounts = field(default_factory=FileCounts)
    _names: set[str] = field(default_factory=set)
    _staged: list[tuple[Path, Path]] = field(default_factory=list)

    def put(self, name: str, body: bytes) -> None:
        """``body`` is the file ``name`` of this export (a path relative to ``root``)."""
        if name in self._names:
            return  # two URLs for one file: the first one fetched is it
        self._names.add(name)
        counts = self.counts
        counts.files += 1
        counts.bytes += len(body)
        target = self.root / name
        if same_bytes(target, body):
            counts.unchanged += 1
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = staged_path(target)
        staged.write_bytes(body)
        self._staged.append((staged, target))
        counts.written += 1
        counts.written_bytes += len(body)

    def commit(self) -> None:
        """Put the changed files in place and remove the files of pages that are gone."""
        for staged, target in self._staged:
            os.replace(staged, target)
        self._staged.clear()
        for folder, subfolders, names in os.walk(self.root, topdown=False):
            here = Path(folder)
            for name in names:
                if (here / name).relative_to(self.root).as_posix() not in self._names:
                    (here / name).unlink()
                    self.counts.removed += 1
            for sub in subfolders:
                if not any((here / sub).iterdir()):
                    (here / sub).rmdir()

    def discard(self) -> None:
        """Forget the staged files: the folder stays as it was before this export."""
        for staged, _ in self._staged:
            staged.unlink(missing_ok=True)
        self._staged.clear()
