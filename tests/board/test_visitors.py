"""Checking the question form (greenweb.board.visitors): what a visitor types."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from greenweb.board.text import clean_line, clean_text
from greenweb.board.visitors import Limits, validate_question
from support.raw_text import examples, is_clean, texts

TOPICS = frozenset({"clima", "energia", "cibo"})

LIMITS = Limits(text_min=15, text_max=1000, name_max=40)


def check(text: str | None, name: str | None = "", topic: str | None = "", limits: Limits = LIMITS):
    return validate_question(text, name, topic, limits=limits, topics=TOPICS)


def test_text_is_trimmed_and_nfc_normalised() -> None:
    decomposed = "  Perche\u0301 il clima cambia cosi\u0300 in fretta?  \n"
    checked, draft = check(decomposed)
    assert draft is not None
    assert draft.text == "Perché il clima cambia così in fretta?"
    assert unicodedata.is_normalized("NFC", draft.text)


def test_control_characters_are_removed_but_newlines_kept() -> None:
    checked, draft = check("Prima riga\x00\x07\x1b[31m\r\nseconda\triga\u202e al contrario\x7f")
    assert draft is not None
    assert draft.text == "Prima riga[31m\nseconda riga al contrario"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("x" * 14, False),
        ("x" * 15, True),
        ("   " + "x" * 14 + "   ", False),  # spaces around do not count
        ("x" * 1000, True),
        ("x" * 1001, False),
        ("é" * 15, True),
        ("e\u0301" * 15, True),  # 30 code points before NFC, 15 after
        ("e\u0301" * 1000, True),
        ("", False),
        (None, False),
        (" \n\t\x00 ", False),
    ],
)
def test_question_length_is_counted_after_trimming_and_normalising(
    text: str | None, ok: bool
) -> None:
    checked, draft = check(text)
    assert (draft is not None) is ok
    assert ("testo" in checked.errors) is not ok


def test_length_messages_are_italian_and_say_the_limits() -> None:
    short = check("troppo corta")[0].errors["testo"]
    assert "almeno 15 caratteri" in short and "ora sono 12" in short
    long = check("x" * 1234)[0].errors["testo"]
    assert "al massimo 1.000 caratteri" in long and "ora sono 1.234" in long
    empty = check("")[0].errors["testo"]
    assert "vuota" in empty


def test_limits_come_from_the_caller() -> None:
    limits = Limits(text_min=3, text_max=20, name_max=5)
    assert check("ciao", "Anna", limits=limits)[1] is not None
    assert "nome" in check("ciao", "Annalisa", limits=limits)[0].errors
    assert "testo" in check("x" * 21, limits=limits)[0].errors


def test_name_is_optional_and_limited() -> None:
    assert check("x" * 20, "")[1].display_name is None  # type: ignore[union-attr]
    assert check("x" * 20, "n" * 40)[1] is not None
    errors = check("x" * 20, "n" * 41)[0].errors
    assert errors["nome"].startswith("Il nome può avere al massimo 40 caratteri")


def test_topic_must_be_known_or_empty() -> None:
    assert check("x" * 20, topic="clima")[1].topic == "clima"  # type: ignore[union-attr]
    assert check("x" * 20, topic="")[1].topic is None  # type: ignore[union-attr]
    checked, draft = check("x" * 20, topic="<script>")
    assert draft is None and "tema" in checked.errors
    assert checked.values["tema"] == ""


def test_invalid_form_keeps_the_text_for_the_next_try() -> None:
    checked, draft = check("y" * 1200, "Anna")
    assert draft is None
    assert checked.values["testo"] == "y" * 1200
    assert checked.values["nome"] == "Anna"


@given(st.text(max_size=1200), st.text(max_size=60), st.text(max_size=20))
def test_validation_never_fails_and_keeps_its_promises(text: str, name: str, topic: str) -> None:
    checked, draft = check(text, name, topic)
    assert all(ch == "\n" or unicodedata.category(ch) != "Cc" for ch in checked.values["testo"])
    if draft is not None:
        assert 15 <= len(draft.text) <= 1000
        assert draft.text == draft.text.strip()
        assert draft.display_name is None or len(draft.display_name) <= 40
        assert "\n" not in (draft.display_name or "")
        assert draft.topic in TOPICS | {None}
    else:
        assert checked.errors


# --- properties ---------------------------------------------------------------------------

limits_strategy = st.builds(
    lambda low, extra, name: Limits(text_min=low, text_max=low + extra, name_max=name),
    st.integers(1, 50),
    st.integers(0, 200),
    st.integers(1, 60),
)


@examples
@given(
    texts,
    st.one_of(st.none(), texts),
    st.one_of(st.none(), st.sampled_from(["", *TOPICS]), texts),
    limits_strategy,
)
def test_validate_question_accepts_exactly_what_fits_the_limits(
    text: str, name: str | None, topic: str | None, limits: Limits
) -> None:
    checked, draft = validate_question(text, name, topic, limits=limits, topics=TOPICS)
    cleaned = clean_text(text)
    fits = limits.text_min <= len(cleaned) <= limits.text_max
    name_fits = len(clean_line(name or "")) <= limits.name_max
    topic_ok = (topic or "").strip() in {"", *TOPICS}
    assert (draft is not None) == (fits and name_fits and topic_ok)
    assert set(checked.errors) <= {"testo", "nome", "tema"}
    if draft is not None:
        assert draft.text == cleaned and is_clean(draft.text, newlines=True)
        assert draft.display_name is None or (
            draft.display_name == clean_line(name or "") and "\n" not in draft.display_name
        )
        assert draft.topic is None or draft.topic in TOPICS
    else:
        # What comes back to the form is cleaned too: nothing raw is shown again.
        assert checked.values["testo"] == cleaned
        assert is_clean(checked.values["nome"], newlines=False)
