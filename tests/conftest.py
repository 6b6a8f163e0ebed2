"""Shared fixtures: a real SQLite file per test, the seed bulletin, a fixed 'today'."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from factory import write_generated
from greenweb.bulletin import import_directory
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.web.app import create_app

REPO = Path(__file__).resolve().parent.parent
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
    async def run() -> None:
        db = Database(settings.db_path)
        await db.open()
        try:
            await import_directory(db, directory)
        finally:
            await db.close()

    asyncio.run(run())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def seeded_settings(settings: Settings) -> Settings:
    import_seed(settings)
    return settings


@pytest.fixture
def seed_copy(tmp_path: Path) -> Path:
    """A writable copy of data/bulletin."""
    target = tmp_path / "bulletin"
    shutil.copytree(SEED_DIR, target)
    return target


@pytest.fixture
def client(seeded_settings: Settings) -> Iterator[TestClient]:
    """The app over the seed bulletin, with 'today' fixed at SEED_TODAY."""
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def client_today(seeded_settings: Settings) -> Iterator[TestClient]:
    """The app over the seed bulletin on the real date (every seed deadline is past)."""
    app = create_app(seeded_settings)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def generated_settings(tmp_path: Path) -> Settings:
    """A database holding 45 generated items (factory.write_generated) instead of the seed."""
    settings = make_settings(tmp_path)
    write_generated(tmp_path / "generated")
    import_seed(settings, tmp_path / "generated")
    return settings


@pytest.fixture
def generated_client(generated_settings: Settings) -> Iterator[TestClient]:
    """The app over 45 generated items (three pages of 20), today fixed at SEED_TODAY."""
    app = create_app(generated_settings, today=lambda: SEED_TODAY)
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
