"""Checking what moderators type (greenweb.board.moderation): reasons, answers, pieces."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenweb.board import moderation, resources
from greenweb.board.text import check_http_url, clean_line
from support.raw_text import examples, is_clean, texts, urls

TOPICS = frozenset({"clima", "energia", "cibo"})


def test_moderators_reason_is_required_and_limited() -> None:
    assert moderation.check_reason("  spam  ") == ("spam", None)
    assert moderation.check_reason("")[1] is not None
    assert moderation.check_reason("", required=False) == ("", None)
    assert moderation.check_reason("x" * 301)[1] is not None


def test_answer_keeps_markdown_indentation() -> None:
    text, problem = moderation.validate_answer("Risposta:\n\n\tcodice\n- punto")
    assert problem is None
    assert text == "Risposta:\n\n    codice\n- punto"
    assert moderation.validate_answer("  ")[1] is not None
    assert moderation.validate_answer("x" * 6001)[1] is not None


@pytest.mark.parametrize(
    ("title", "url", "text", "field"),
    [
        ("", "https://example.org/p", "", "titolo"),
        ("Titolo", "javascript:alert(1)", "", "indirizzo"),
        ("Titolo", "ftp://example.org/x", "", "indirizzo"),
        ("Titolo", "https://exa mple.org", "", "indirizzo"),
        ("Titolo", "http://[evil", "", "indirizzo"),  # urlsplit raises: once a 500
        ("Titolo", "https://example.org:porta/", "", "indirizzo"),
        ("Titolo", "https://:443/", "", "indirizzo"),
        ("Titolo", "", "", "indirizzo"),  # neither a link nor a text
        ("T" * 201, "https://example.org/p", "", "titolo"),
        ("Titolo", "", "t" * 4001, "testo"),
    ],
)
def test_theatre_piece_needs_a_title_and_a_safe_link_or_a_text(
    title: str, url: str, text: str, field: str
) -> None:
    checked, piece = moderation.validate_piece(title, url, text)
    assert piece is None
    assert field in checked.errors


def test_theatre_piece_with_link_or_text_is_accepted() -> None:
    assert moderation.validate_piece("Il caldo", "https://example.org/p", "")[1] is not None
    assert moderation.validate_piece("Il caldo", "", "Scena prima.")[1] is not None


# --- properties ---------------------------------------------------------------------------


@examples
@given(texts, st.booleans())
def test_a_reason_is_one_line_and_within_its_limit_or_refused(raw: str, required: bool) -> None:
    reason, problem = moderation.check_reason(raw, required=required)
    assert reason == clean_line(raw)
    if problem is None:
        assert len(reason) <= moderation.MAX_REASON_CHARS
        assert reason or not required
    else:
        assert problem.endswith(".") and (not reason or len(reason) > moderation.MAX_REASON_CHARS)


@examples
@given(texts)
def test_an_answer_keeps_newlines_and_markdown_indentation(raw: str) -> None:
    markdown, problem = moderation.validate_answer(raw)
    assert is_clean(markdown, newlines=True)
    assert (problem is None) == (1 <= len(markdown) <= moderation.MAX_ANSWER_CHARS)
    if "\t" in raw and problem is None:
        assert "\t" not in markdown


@examples
@given(texts, urls, texts)
def test_theatre_piece_and_resource_validation_never_raise(title: str, url: str, text: str) -> None:
    _, piece = moderation.validate_piece(title, url, text)
    if piece is not None and piece.url is not None:
        assert check_http_url(piece.url) is None
    _, draft = resources.validate_resource(
        title, url, "leggere", text, "it", text, [title], known_topics=TOPICS
    )
    if draft is not None:
        assert check_http_url(draft.url) is None
