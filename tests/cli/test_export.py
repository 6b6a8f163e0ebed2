"""``greenweb export``: writes the site and its nginx.conf, refuses a folder of other files,
shows its progress on a terminal only, and says what a re-export wrote."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from greenweb import cli
from greenweb.cli.export import CLEAR_LINE, ProgressLine, progress_for, skipped_lines
from greenweb.static_site.export import ExportReport

SUMMARY = re.compile(
    r"(?P<pages>\d+) pages, (?P<files>\d+) files, \d+ bytes; (?P<written>\d+) files written "
    r"\(\d+ bytes\), (?P<unchanged>\d+) unchanged, (?P<removed>\d+) removed; nginx config in "
)


class Terminal(io.StringIO):
    """What a terminal would show, as the characters sent to it."""

    def isatty(self) -> bool:
        return True


@pytest.mark.usefixtures("cli_env")
def test_export_command_writes_the_site_and_says_what_it_wrote(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export", str(tmp_path / "out"), "--listen", "8081"]) == 0
    first = capsys.readouterr()
    assert "listen 8081;" in (tmp_path / "out" / "nginx.conf").read_text()
    summary = SUMMARY.search(first.out)
    assert summary is not None, first.out
    assert summary["written"] == summary["files"] and summary["unchanged"] == "0"
    # Not a terminal (a pipe, cron): the summary line and no progress.
    assert first.out.count("\n") == 1
    assert "pagine" not in first.err and "\r" not in first.err
    # The same content again: every file unchanged.
    assert cli.main(["export", str(tmp_path / "out"), "--listen", "8081"]) == 0
    again = SUMMARY.search(capsys.readouterr().out)
    assert again is not None
    assert (again["written"], again["removed"]) == ("0", "0")
    assert again["unchanged"] == again["files"] == summary["files"]


@pytest.mark.usefixtures("cli_env")
def test_export_command_refuses_a_folder_of_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x").write_text("x")
    assert cli.main(["export", str(tmp_path / "other")]) == 1
    assert "greenweb export:" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "other").iterdir()] == ["x"]


@pytest.mark.usefixtures("cli_env")
def test_export_command_shows_its_progress_on_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli.main(["export", str(tmp_path / "out")]) == 0
    summary = SUMMARY.search(capsys.readouterr().out)
    assert summary is not None
    shown = terminal.getvalue()
    counts = [(int(d), int(f)) for d, f in re.findall(r"\r\x1b\[Kpagine (\d+)/(\d+)", shown)]
    assert counts, shown
    done, found = counts[-1]
    # The last count is every URL fetched, exported or not; then the line is cleared.
    assert done == found >= int(summary["pages"])
    assert [d for d, _ in counts] == sorted(d for d, _ in counts)
    # One line rewritten in place, cleared before anything else is said.
    progress, _, after = shown.rpartition(CLEAR_LINE)
    assert "\n" not in progress
    assert all(line.startswith("greenweb export: ") for line in after.splitlines())


def test_progress_is_only_for_terminals() -> None:
    assert progress_for(io.StringIO()) is None
    assert isinstance(progress_for(Terminal()), ProgressLine)


def test_the_progress_line_is_rewritten_at_most_ten_times_a_second_and_shows_the_end() -> None:
    terminal = Terminal()
    now = [0.0]
    line = ProgressLine(terminal, clock=lambda: now[0])
    for done in range(1, 101):
        now[0] = done * 0.01  # one page every 10 ms
        line(done, 100)
    line.close()
    shown = re.findall(r"pagine (\d+)/100", terminal.getvalue())
    assert shown[0] == "1" and shown[-1] == "100"
    assert len(shown) <= 12
    assert terminal.getvalue().endswith(CLEAR_LINE)


def test_skipped_pages_are_told_once_per_reason() -> None:
    report = ExportReport(
        skipped=[
            ("/domande/1", "200, not public (every page of /domande/{id})"),
            ("/domande/2", "200, not public (every page of /domande/{id})"),
            ("/domande/3", "200, not public (every page of /domande/{id})"),
            ("/rotta", "500, not public"),
        ]
    )
    assert skipped_lines(report) == [
        "3 pages skipped (/domande/1 ...): 200, not public (every page of /domande/{id})",
        "/rotta: skipped: 500, not public",
    ]
