"""Markdown to safe HTML, and plain-text summaries.

Raw HTML in the source is escaped, not passed through, and links keep only the schemes
a reader needs (http, https, mailto, tel) or none (a path on this site): markdown-it's
own validator already drops ``javascript:``, ``vbscript:`` and ``file:``, but lets
``data:image/...`` through, and nothing here needs it. So text from staff or moderators
cannot inject markup or script. Images become links: no page loads anything but itself
and the stylesheet.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

_TAG = re.compile(r"<[^>]+>")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})


def safe_link(url: str) -> bool:
    """A link destination markdown-it may keep (it passes it normalised: percent-encoded,
    entities decoded). Anything that is not a known scheme stays text."""
    scheme = _SCHEME.match(url)
    return scheme is None or scheme.group(1).lower() in LINK_SCHEMES


_SPACE = re.compile(r"\s+")


def _image_as_link(
    renderer: RendererHTML,
    tokens: Sequence[Token],
    idx: int,
    options: OptionsDict,
    env: EnvType,
) -> str:
    # An <img> from another site would be a third-party request (and a tracking pixel) on
    # every view, against the budget: show the picture's address as a link instead.
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<a href="{escapeHtml(src)}">{escapeHtml(alt or src)}</a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # "js-default" is CommonMark with html disabled; typographer stays off to keep the
    # source text exactly as written.
    parser = MarkdownIt("js-default", {"html": False, "linkify": False, "typographer": False})
    parser.add_render_rule("image", _image_as_link)
    parser.validateLink = safe_link  # type: ignore[method-assign]
    return parser


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


def slugify(title: str, *, max_len: int = 80) -> str:
    """An address part proposed from a title: ASCII lowercase words joined by hyphens
    (``Città e clima`` gives ``citta-e-clima``); empty when the title has no letter or digit."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in ascii_title.lower()).split()
    return "-".join(words)[:max_len].strip("-")
