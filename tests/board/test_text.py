"""Cleaning what people type, and checking web addresses (greenweb.board.text)."""

from __future__ import annotations

import re
import string
import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from greenweb.board.text import MAX_URL_CHARS, check_http_url, clean_line, clean_text
from support.raw_text import examples, is_clean, texts, urls


@pytest.mark.parametrize("mark", ["\x01", "\u200e", "\u202e", "\x7f"])
def test_text_is_nfc_once_a_mark_between_letter_and_accent_is_removed(mark: str) -> None:
    # Normalised before the removal, "e<mark><U+0301>" stayed two code points: stored
    # decomposed and counted twice against the length limits.
    text = clean_text(f"Perche{mark}\u0301 il clima cambia?")
    assert text == "Perché il clima cambia?"
    assert unicodedata.is_normalized("NFC", text)
    assert len(clean_text("e\u200e\u0301" * 15)) == 15


def test_runs_of_blank_lines_shrink_to_one() -> None:
    assert clean_text("uno\n\n\n\n\ndue   \n   tre") == "uno\n\ndue\n   tre"


def test_line_and_paragraph_separators_become_newlines() -> None:
    assert clean_text("a\u2028b\u2029c") == "a\nb\nc"


def test_name_is_one_line() -> None:
    assert clean_line("  Maria\n  Rossi\t ") == "Maria Rossi"


# --- properties ---------------------------------------------------------------------------


@examples
@given(texts)
@example("Perche\u200e\u0301 il clima cambia?")  # a removed mark between letter and accent
@example("e\x01\u0301" * 20)
@example("a\u2028\u0301")
def test_clean_text_is_nfc_without_control_characters_and_trimmed(raw: str) -> None:
    text = clean_text(raw)
    assert unicodedata.is_normalized("NFC", text)
    assert is_clean(text, newlines=True)
    assert text == text.strip()
    assert "\r" not in text and "\t" not in text
    assert "\n\n\n" not in text
    assert not re.search(r"[^\S\n]\n", text)  # no spaces at the end of a line


@examples
@given(texts)
@example("e\u200e\u0301")
def test_clean_text_is_idempotent(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once


@examples
@given(st.text(alphabet=string.ascii_letters + string.digits + " .,?!'àèéìòù", max_size=80))
def test_clean_text_keeps_ordinary_italian_as_it_is(raw: str) -> None:
    assert clean_text(raw) == re.sub(r" +\n", "\n", raw).strip()


@examples
@given(texts)
def test_clean_line_is_one_clean_line_with_single_spaces(raw: str) -> None:
    line = clean_line(raw)
    assert is_clean(line, newlines=False)
    assert line == line.strip()
    assert not re.search(r"\s\s", line)
    assert unicodedata.is_normalized("NFC", line)
    assert clean_line(line) == line


@examples
@given(urls)
@example("http://[evil")
@example("https://x:porta/")
@example("https://:443/")
def test_check_http_url_never_raises_and_accepts_only_complete_http_urls(url: str) -> None:
    problem = check_http_url(url)
    if problem is None:
        assert url.split(":", 1)[0].lower() in {"http", "https"}
        assert len(url) <= MAX_URL_CHARS
        assert not any(c.isspace() for c in url)
