"""Fixtures for the `greenweb` command's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenweb.config import Settings
from support import import_seed, make_settings


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The seed bulletin in a database that `greenweb` finds through the environment."""
    settings = make_settings(tmp_path)
    import_seed(settings)
    monkeypatch.setenv("GREENWEB_DB", str(settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", "test-secret-not-for-production")
    monkeypatch.setenv("GREENWEB_BASE_URL", "http://testserver")
    return settings
