"""Shared fixtures: a real SQLite file per test, the seed bulletin, a fixed 'today'."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from greenweb.bulletin import import_directory
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.web.app import create_app
from servers import LiveServer

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
def live_server(seeded_settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """`greenweb serve` over the seed bulletin on a free 127.0.0.1 port, stopped afterwards
    (see tests/servers.py for kill(), restart(), run_load() and raw requests)."""
    with LiveServer.greenweb(tmp_path / "server", seeded_settings.db_path) as server:
        yield server
