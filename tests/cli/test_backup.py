"""greenweb backup / restore on the command line: what they print, and their exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenweb.cli import main
from greenweb.config import Settings


def test_backup_never_overwrites_and_restore_keeps_the_previous_database(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copia.db"
    assert main(["backup", str(copy)]) == 0
    assert "integrity ok" in capsys.readouterr().out
    assert main(["backup", str(copy)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"greenweb backup: {copy}: already exists")
    assert main(["backup", "--force", str(copy)]) == 0
    capsys.readouterr()
    assert main(["restore", str(copy)]) == 0
    assert "previous one is kept as" in capsys.readouterr().out
    assert main(["restore", str(tmp_path / "nessuno.db")]) == 1
    error = capsys.readouterr().err
    assert "no such file" in error and "nothing was changed" in error
