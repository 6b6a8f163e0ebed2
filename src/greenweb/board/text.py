"""Cleaning and checking what people type into the board's forms.

Every form of the board (questions, moderators' reasons and answers, theatre pieces,
resources) cleans its fields with ``clean_text`` or ``clean_line`` and reports problems as
Italian sentences, one per field, in a ``Checked``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from greenweb.italian import format_int

MAX_URL_CHARS = 500

# Bidirectional embeddings, overrides and isolates can make text display in another order
# than it is stored (and than a moderator reads it); plain text never needs them.
_BIDI_CONTROLS = dict.fromkeys(
    [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0xFEFF]
)
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[^\S\n]+")
_TRAILING = re.compile(r"[^\S\n]+\n")


def clean_text(raw: str, *, tab: str = " ") -> str:
    """NFC-normalised text without control characters; newlines kept, ends trimmed.

    Line and paragraph separators become newlines, tabs become ``tab``, runs of blank
    lines collapse to one blank line.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\t", tab)
    text = text.translate(_BIDI_CONTROLS)
    text = "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cs", "Co"}
    )
    # NFC after the removals: "e<U+200E><U+0301>" only becomes "é" once the mark between
    # the letter and its accent is gone (normalised first, it stayed two code points).
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def clean_line(raw: str) -> str:
    """Like clean_text, on one line: every run of whitespace becomes one space."""
    return _SPACES.sub(" ", clean_text(raw).replace("\n", " ")).strip()


@dataclass(frozen=True)
class Checked:
    """The outcome of validating a form: cleaned values, and a message per bad field."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)


def check_text(text: str, minimum: int, maximum: int, *, what: str = "La domanda") -> str | None:
    """The problem with a text's length, telling how long it is now; None when it fits."""
    if not text:
        return f"{what} è vuota: scrivi almeno {format_int(minimum)} caratteri."
    if len(text) < minimum:
        return (
            f"{what} è troppo breve: scrivi almeno {format_int(minimum)} caratteri "
            f"(ora sono {format_int(len(text))})."
        )
    if len(text) > maximum:
        return (
            f"{what} è troppo lunga: al massimo {format_int(maximum)} caratteri "
            f"(ora sono {format_int(len(text))})."
        )
    return None


def check_length(value: str, maximum: int, *, what: str, missing: str | None = None) -> str | None:
    """The problem with a field of at most ``maximum`` characters; ``missing`` is the
    message for an empty one (None: it may stay empty)."""
    if not value:
        return missing
    if len(value) > maximum:
        return f"{what} può avere al massimo {format_int(maximum)} caratteri."
    return None


def check_http_url(url: str) -> str | None:
    too_long = check_length(url, MAX_URL_CHARS, what="L'indirizzo")
    if too_long:
        return too_long
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises too
    except ValueError:  # "http://[evil": an unclosed IPv6 bracket
        parts = None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or any(c.isspace() for c in url)
    ):
        return "Scrivi un indirizzo completo che inizi con https:// (o http://)."
    return None
