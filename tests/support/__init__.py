"""Helpers shared by test modules (conftest.py only holds fixtures: two conftest modules
exist, tests/ and tests/browser/, so test modules must not import from either)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from greenweb.bulletin.importer import import_directory
from greenweb.config import Settings
from greenweb.db import with_database

REPO = Path(__file__).resolve().parents[2]
SEED_DIR = REPO / "data" / "bulletin"
# All seed deadlines fall in 2021: one day in the middle of them keeps some open.
SEED_TODAY = date(2021, 9, 4)


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "db_path": tmp_path / "greenweb.db",
        "secret": "test-secret-not-for-production",
        "base_url": "http://testserver",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def import_seed(settings: Settings, directory: Path = SEED_DIR) -> None:
    with_database(settings.db_path, lambda db: import_directory(db, directory))


def retitle_first_item(folder: Path, title: str) -> None:
    """Give the first bulletin file of ``folder`` (a copy of the seed) a new title, as an
    editor does before ``greenweb import``."""
    item = sorted(folder.glob("*.md"))[0]
    text = item.read_text(encoding="utf-8")
    new = re.sub(r'^title = ".*"$', f'title = "{title}"', text, count=1, flags=re.M)
    item.write_text(new, encoding="utf-8")


def folder_holding(folder: Path, name: str, text: str) -> Path:
    """``folder``, made, with one file ``name`` holding ``text`` (and nothing else)."""
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    return folder
