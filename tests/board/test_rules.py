"""The moderation rules file (board/rules.py): rendered with markup.py; a missing, empty
or unreadable file is one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenweb.board.data_files import DataFileError
from greenweb.board.rules import load_rules, rules_path
from greenweb.board.visitors import REPORT_REASONS
from greenweb.markup import plain_text


def test_the_shipped_rules_name_every_report_reason() -> None:
    text = plain_text(load_rules()).lower()
    assert rules_path().name == "regole.md"
    for label in REPORT_REASONS.values():
        assert label.lower() in text


def test_raw_html_in_the_rules_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "regole.md"
    path.write_text("## Regole\n\n<script>alert(1)</script> **sì**", encoding="utf-8")
    html = load_rules(path)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<strong>sì</strong>" in html


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "file: not found"),
        (b"  \n\n", "file: is empty: write the moderation rules in Markdown"),
        (b"\xff\xfe regole", "file: not valid UTF-8"),
    ],
)
def test_an_unusable_rules_file_is_one_line_naming_it(
    tmp_path: Path, content: bytes | None, problem: str
) -> None:
    path = tmp_path / "regole.md"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataFileError) as caught:
        load_rules(path)
    assert str(caught.value) == f"{path}: {problem}"
    assert "\n" not in str(caught.value)


def test_a_folder_in_place_of_the_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "regole.md"
    path.mkdir()
    with pytest.raises(DataFileError, match=r"regole.md: file: cannot be read"):
        load_rules(path)
