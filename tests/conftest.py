"""Shared fixtures: a real SQLite file per test, the seed bulletin, a fixed 'today'; and the
Hypothesis profiles."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.web.app import create_app
from support import SEED_DIR, SEED_TODAY, import_seed, make_settings
from support.factory import write_generated
from support.servers import LiveServer
from support.smtp import MailServer, mail_server

# "ci" gates `make test`: derandomized, so every run tries the same examples and a verdict
# never changes from one run to the next; no example database, so a fresh clone and a
# used one agree; no deadlines, since a busy 2-core machine is no bug. "fuzz" looks
# further (`make fuzz`, or HYPOTHESIS_PROFILE=fuzz / --hypothesis-profile=fuzz): random
# seeds and 20 times the examples; a failure prints its blob to replay it with
# @reproduce_failure. Property tests scale their budget by the profile's max_examples.
hypothesis.settings.register_profile(
    "ci", derandomize=True, max_examples=100, deadline=None, database=None, print_blob=True
)
hypothesis.settings.register_profile(
    "fuzz", max_examples=2_000, deadline=None, database=None, print_blob=True
)
# Loaded before the test modules are imported: their settings objects copy the profile.
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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


def serve_in_process(app: Starlette) -> Iterator[TestClient]:
    """The app's lifespan, and a client for it, for the time of one test."""
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


@pytest.fixture
def client(seeded_settings: Settings) -> Iterator[TestClient]:
    """The app over the seed bulletin, with 'today' fixed at SEED_TODAY."""
    yield from serve_in_process(create_app(seeded_settings, today=lambda: SEED_TODAY))


@pytest.fixture
def client_today(seeded_settings: Settings) -> Iterator[TestClient]:
    """The app over the seed bulletin on the real date (every seed deadline is past)."""
    yield from serve_in_process(create_app(seeded_settings))


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
    yield from serve_in_process(create_app(generated_settings, today=lambda: SEED_TODAY))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The browser suite keeps one Playwright driver for the session, and Playwright's sync
    # API leaves an event loop running in the main thread: every test that calls
    # asyncio.run() must therefore run before the first browser test (under `pytest -n`,
    # in each worker: see support/scheduling.py).
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`pytest -n N`: whole modules, in collection order (support/scheduling.py)."""
    if config.getvalue("dist") != "load":
        return None  # another --dist, asked for by name
    from support.scheduling import ModulesInOrder

    return ModulesInOrder(config, log)


@pytest.fixture
def live_server(seeded_settings: Settings, tmp_path: Path) -> Iterator[LiveServer]:
    """`greenweb serve` over the seed bulletin on a free 127.0.0.1 port, stopped afterwards
    (see tests/servers.py for kill(), restart(), run_load() and raw requests)."""
    with LiveServer.greenweb(tmp_path / "server", seeded_settings.db_path) as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[MailServer]:
    """A real SMTP server on 127.0.0.1 whose answers the test scripts (support/smtp.py)."""
    with mail_server() as running:
        yield running
