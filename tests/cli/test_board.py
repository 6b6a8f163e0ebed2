"""`greenweb questions export`: the board's command group (moderators: test_staff.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from greenweb import cli
from greenweb.config import Settings
from support.board import (
    board_client,
    cheap_password_hashing,
    publish_directly,
)
from support.moderation import cli_env


@pytest.fixture(autouse=True)
def _cheap_argon2() -> Iterator[None]:
    with cheap_password_hashing():
        yield


def test_export_to_a_file_by_state(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with board_client(settings):
        pass
    publish_directly(settings, 2)
    publish_directly(settings, state="respinta", published_at=None)
    cli_env(monkeypatch, settings)
    out = tmp_path / "domande.json"
    assert cli.main(["questions", "export", "--format", "json", "--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('"state": "pubblicata"') == 2
    assert cli.main(["questions", "export", "--all", "--output", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 4  # header and 3 rows
    assert cli.main(["questions", "export", "--state", "respinta", "--output", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
