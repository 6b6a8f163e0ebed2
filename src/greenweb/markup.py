"""Markdown to safe HTML, and plain-text summaries.

Raw HTML in the source is escaped, not passed through, and markdown-it's link validator
drops ``javascript:``, ``vbscript:``, ``file:`` and ``data:`` URLs, so text from staff or
moderators cannot inject markup or script.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from markdown_it import MarkdownIt

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark with html disabled; typographer stays off to keep the
    # source text exactly as written.
    return MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})


def render_markdown(source: str) -> str:
    return str(_parser().render(source))


def plain_text(markup: str) -> str:
    """The text of rendered HTML, whitespace folded (for search and summaries)."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def summarise(text: str, limit: int = 220) -> str:
    """At most ``limit`` characters, cut at a word boundary with an ellipsis."""
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.")
    return cut + "…"
