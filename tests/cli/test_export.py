"""``greenweb export``: writes the site and its nginx.conf, refuses a folder of other files."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenweb import cli
from greenweb.config import Settings


def test_export_command_writes_the_site(
    seeded_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GREENWEB_DB", str(seeded_settings.db_path))
    monkeypatch.setenv("GREENWEB_SECRET", "s")
    assert cli.main(["export", str(tmp_path / "out"), "--listen", "8081"]) == 0
    assert "pages" in capsys.readouterr().out
    assert "listen 8081;" in (tmp_path / "out" / "nginx.conf").read_text()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    assert cli.main(["export", str(tmp_path / "other")]) == 1
    assert "greenweb export:" in capsys.readouterr().err
