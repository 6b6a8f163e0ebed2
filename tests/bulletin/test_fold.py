"""The calendar's line folding: fast, and the same result as the character-by-character
definition (RFC 5545, 3.1: 75 octets, continuation lines start with a space)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from greenweb.bulletin.syndication import fold


def fold_by_characters(line: str, limit: int = 75) -> str:
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_fold_matches_the_character_by_character_definition(line: str) -> None:
    assert fold(line) == fold_by_characters(line)


@given(st.text(alphabet="aè’€😀 ", max_size=300), st.integers(min_value=5, max_value=80))
def test_fold_never_exceeds_the_limit_nor_splits_a_character(line: str, limit: int) -> None:
    folded = fold(line, limit)
    assert folded == fold_by_characters(line, limit)
    for part in folded.split("\r\n"):
        assert len(part.encode()) <= limit
    assert folded.replace("\r\n ", "") == line


def test_short_lines_are_left_alone() -> None:
    assert fold("SUMMARY:Bando") == "SUMMARY:Bando"
    assert fold("") == ""
