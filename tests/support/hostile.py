"""Hostile inputs and the checks every answer to them must pass.

``HOSTILE`` is a table of named cases. Each test module sends them where it needs
(query parameters, path segments, form fields) and checks the answers with the helpers
below, so the same table and the same rules cover GET pages now and the board's forms:

    before = table_counts(db_path)
    for case in HOSTILE:
        response = client.post(url, content=form_body({"testo": case.raw, ...}),
                               headers=FORM_HEADERS)
        assert_safe_response(response, case, expected={422, 400, 413})
    assert_unchanged(db_path, before)
    assert_healthy(client)

A case's ``value`` is ``str`` when it is text, ``bytes`` when it is not valid UTF-8 (and
so cannot be a ``str``). ``raw`` is always the bytes to put on the wire.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, quote_from_bytes

import httpx2
from markupsafe import escape

from greenweb.config import Settings

MEGABYTE = 1024 * 1024
CONTROL_BYTES = re.compile(rb"[\x00-\x1f\x7f]")

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
FORM_HEADERS = {"Content-Type": FORM_CONTENT_TYPE}
MAX_BODY_BYTES = Settings().max_body_bytes


@dataclass(frozen=True)
class Hostile:
    name: str
    value: str | bytes
    kind: str

    @property
    def raw(self) -> bytes:
        return self.value if isinstance(self.value, bytes) else self.value.encode("utf-8")

    @property
    def text(self) -> str | None:
        """The value as text, or None when its bytes are not UTF-8."""
        try:
            return self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return None

    @property
    def has_control(self) -> bool:
        return CONTROL_BYTES.search(self.raw) is not None

    @property
    def refused_in_url(self) -> bool:
        """greenweb answers 400 to any URL carrying this value (see web/limits.py)."""
        return self.text is None or self.has_control

    @property
    def refused_in_form(self) -> bool:
        """greenweb answers 400 to a urlencoded body carrying this value.

        Only NUL and invalid UTF-8: line breaks and tabs are normal in a textarea.
        """
        return self.text is None or b"\x00" in self.raw

    def clipped(self, max_bytes: int) -> Hostile:
        """The case cut to ``max_bytes``: HTTP clients refuse URLs over 64 KB, so a 1 MB
        value travels in a URL only this far (still far past greenweb's 4 KB limit)."""
        if len(self.raw) <= max_bytes:
            return self
        return Hostile(self.name, self.raw[:max_bytes], self.kind)

    def query(self) -> str:
        """Percent-encoded for a query string (every reserved byte escaped)."""
        return quote_from_bytes(self.raw, safe="")

    def segment(self) -> str:
        """Percent-encoded for one path segment; dots too, so clients keep ``..`` as sent."""
        return quote_from_bytes(self.raw, safe="").replace(".", "%2E")


def _cases() -> tuple[Hostile, ...]:
    h = Hostile
    return (
        # --- script and event-handler injection ---------------------------------------
        h("script-tag", "<script>alert(1)</script>", "script"),
        h("script-mixed-case", "<ScRiPt>alert(document.domain)</sCrIpT>", "script"),
        h("script-split", "<scr<script>ipt>alert(1)</scr</script>ipt>", "script"),
        h("img-onerror", "<img src=x onerror=alert(1)>", "script"),
        h("svg-onload", "<svg/onload=alert(1)>", "script"),
        h("body-onload", "<body onload=alert(1)>", "script"),
        h("attr-breakout-double", '" onmouseover="alert(1)', "script"),
        h("attr-breakout-single", "' onfocus='alert(1)' autofocus='", "script"),
        h("tag-breakout", '"><script>alert(1)</script>', "script"),
        h("textarea-breakout", "</textarea><script>alert(1)</script>", "script"),
        h("title-breakout", "</title><script>alert(1)</script>", "script"),
        h("style-breakout", "</style><img src=x onerror=alert(1)>", "script"),
        h("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>">', "script"),
        h(
            "mutation-xss",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "script",
        ),
        h("pre-escaped", "&lt;script&gt;alert(1)&lt;/script&gt;", "script"),
        h(
            "meta-refresh",
            '<meta http-equiv="refresh" content="0;url=https://evil.example">',
            "script",
        ),
        h("base-href", '<base href="https://evil.example/">', "script"),
        h("template-jinja", "{{ settings.secret }}{% raw %}", "script"),
        h("template-dollar", "${7*7}#{7*7}", "script"),
        h("html-comment", "<!-- -->--><script>alert(1)</script>", "script"),
        # --- URLs that run code or go elsewhere -----------------------------------------
        h("javascript-url", "javascript:alert(1)", "url"),
        h("javascript-url-case", "JaVaScRiPt:alert(1)", "url"),
        h("javascript-url-space", " javascript:alert(1)", "url"),
        h("javascript-url-tab", "java\tscript:alert(1)", "url"),
        h("javascript-url-entity", "javascript&colon;alert(1)", "url"),
        h("data-url-html", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "url"),
        h("vbscript-url", "vbscript:msgbox(1)", "url"),
        h("markdown-js-link", "[premi qui](javascript:alert(1))", "url"),
        h("markdown-image-tracker", "![x](https://evil.example/pixel.gif)", "url"),
        h("markdown-html-link", '<a href="javascript:alert(1)">x</a>', "url"),
        h("protocol-relative", "//evil.example/", "url"),
        h("backslash-redirect", "/\\evil.example", "url"),
        h("absolute-offsite", "https://evil.example/phish", "url"),
        h("url-unclosed-ipv6", "http://[evil.example/", "url"),
        h("url-port-not-a-number", "https://evil.example:porta/", "url"),
        h("url-no-host", "https://:443/x", "url"),
        # --- SQL and FTS5 metacharacters ------------------------------------------------
        h("sql-or", "' OR '1'='1", "sql"),
        h("sql-drop", "'; DROP TABLE bulletin_item; --", "sql"),
        h("sql-double-quote", '" OR ""="', "sql"),
        h("sql-union", "x' UNION SELECT sql FROM sqlite_master --", "sql"),
        h("sql-like-wildcards", "%_%", "sql"),
        h("fts-syntax", 'clima NEAR("a" b) OR title:* ^x -y', "sql"),
        h("fts-unbalanced", '"clima', "sql"),
        h("fts-star", "*", "sql"),
        # The one search's columns and operators (question_search: text, answer).
        h("fts-column-filter", "{text answer}: clima", "sql"),
        h("fts-column-minus", "- answer : clima", "sql"),
        h("fts-near-open", "NEAR(clima", "sql"),
        h("fts-and-not", "clima AND NOT caldo", "sql"),
        h("fts-prefix-only", 'clima* ^ + ""', "sql"),
        h("fts-rank-match", "rank MATCH 'bm25(10.0)'", "sql"),
        # --- control characters and CRLF ------------------------------------------------
        h("nul-inside", "clima\x00energia", "control"),
        h("nul-only", "\x00", "control"),
        h("crlf-header", "x\r\nSet-Cookie: greenweb=1", "crlf"),
        h("lf-header", "x\nLocation: https://evil.example", "crlf"),
        h("crlf-double-encoded", "%0d%0aSet-Cookie:%20x=1", "crlf"),
        h("ansi-escape", "\x1b[31mrosso\x1b[0m", "control"),
        h("backspaces", "ok\x08\x08\x08\x08evil", "control"),
        h("c1-next-line", "riga\u0085riga", "control"),
        # --- invalid UTF-8 --------------------------------------------------------------
        h("utf8-lone-ff", b"\xff", "encoding"),
        h("utf8-truncated", b"caff\xc3", "encoding"),
        h("utf8-bad-continuation", b"\xc3\x28", "encoding"),
        h("utf8-surrogate", b"\xed\xa0\x80", "encoding"),
        h("utf8-overlong-slash", b"\xc0\xaf", "encoding"),
        h("utf8-beyond-unicode", b"\xf4\x90\x80\x80", "encoding"),
        h("latin1-text", "perché è così".encode("latin-1"), "encoding"),
        # --- bidi and invisible characters ----------------------------------------------
        h("bidi-override", "\u202egnp.exe", "bidi"),
        h("bidi-isolates", "\u2066admin\u2069 \u2067x\u2069", "bidi"),
        h("zero-width", "cl\u200bi\u200dma\ufeff", "bidi"),
        h("line-separator", "a\u2028b\u2029c", "bidi"),
        # --- size and numbers -----------------------------------------------------------
        h("one-megabyte", "a" * MEGABYTE, "size"),
        h("one-megabyte-multibyte", "è" * (MEGABYTE // 2), "size"),
        h("long-number", "9" * 5000, "number"),
        h("big-number", "99999999999999999999", "number"),
        h("negative", "-1", "number"),
        h("zero", "0", "number"),
        h("float-overflow", "1e309", "number"),
        h("nan", "NaN", "number"),
        h("hex", "0x10", "number"),
        h("arabic-indic-digits", "١٢", "number"),
        h("fullwidth-digits", "１２", "number"),
        h("superscript-two", "²", "number"),
        h("page-max-plus-one", "100001", "number"),
        # --- Unicode normalisation tricks -----------------------------------------------
        h("fullwidth-script", "＜script＞alert(1)＜/script＞", "unicode"),
        h("combining-accent", "cafe\u0301", "unicode"),
        h("ligature", "ﬁnanziamento", "unicode"),
        h("kelvin-sign", "\u212aelvin", "unicode"),
        h("dotted-capital-i", "İSTANBUL", "unicode"),
        h("astral-emoji", "🌍🔥💧", "unicode"),
        h("max-code-point", "\U0010ffff", "unicode"),
        h("zalgo", "c" + "\u0301\u0302\u0303\u0304" * 50, "unicode"),
        # --- path traversal -------------------------------------------------------------
        h("dot-dot-slash", "../pyproject.toml", "traversal"),
        h("dot-dot-deep", "../../../../../../etc/passwd", "traversal"),
        h("dot-dot-encoded", "%2e%2e%2fpyproject.toml", "traversal"),
        h("dot-dot-double-encoded", "%252e%252e%252fpyproject.toml", "traversal"),
        h("dot-dot-overlong", b"..\xc0\xafpyproject.toml", "traversal"),
        h("dot-dot-backslash", "..\\..\\pyproject.toml", "traversal"),
        h("dot-dot-dot", "....//....//pyproject.toml", "traversal"),
        h("absolute-path", "/etc/passwd", "traversal"),
        h("dot-dot", "..", "traversal"),
        # --- format strings -------------------------------------------------------------
        h("printf", "%s%s%s%n%x", "format"),
        h("python-format", "{0.__class__.__mro__}", "format"),
        h("python-percent", "%(secret)s", "format"),
        h("braces", "{}{}{{}}", "format"),
        # --- JSON and XML breakers ------------------------------------------------------
        h("json-object", '{"__proto__": {"admin": true}}', "json-xml"),
        h("json-close", '"]}', "json-xml"),
        h("json-escape", '\\u0000\\"', "json-xml"),
        h(
            "xml-entity",
            '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
            "json-xml",
        ),
        h("xml-cdata", "]]><![CDATA[x]]>", "json-xml"),
        h("ical-line", "x\\nEND:VEVENT\\nBEGIN:VEVENT", "json-xml"),
        # --- empty and blank ------------------------------------------------------------
        h("empty", "", "empty"),
        h("space", " ", "empty"),
        h("tab", "\t", "empty"),
        h("ideographic-space", "\u3000", "empty"),
    )


HOSTILE: tuple[Hostile, ...] = _cases()
assert len({case.name for case in HOSTILE}) == len(HOSTILE), "case names must be unique"


def by_kind(*kinds: str) -> tuple[Hostile, ...]:
    return tuple(case for case in HOSTILE if case.kind in kinds)


# --- building requests ------------------------------------------------------------------


def form_body(fields: Mapping[str, str | bytes] | Sequence[tuple[str, str | bytes]]) -> bytes:
    """A urlencoded body from raw values (repeated names allowed, bytes kept as bytes)."""
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    encoded = []
    for name, value in pairs:
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        encoded.append(f"{quote(name, safe='')}={quote_from_bytes(raw, safe='')}")
    return "&".join(encoded).encode("ascii")


def form_refusal(
    body: bytes, case: Hostile | None = None, limit: int = MAX_BODY_BYTES
) -> int | None:
    """The status greenweb's request limits give ``body`` before any view sees it:
    413 past the size limit, 400 for NUL or invalid UTF-8 in ``case``; None otherwise
    (then the view decides: 303, 422, ...)."""
    if len(body) > limit:
        return 413
    if case is not None and case.refused_in_form:
        return 400
    return None


class _FormFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and values.get("type") == "hidden" and self.forms:
            name = values.get("name")
            if name:
                self.forms[-1][1].setdefault(name, values.get("value", ""))


def hidden_fields(html: str, action: str | None = None) -> dict[str, str]:
    """The hidden inputs (form token, nonce, ...) of the first form posting to ``action``
    (or of the first form): what a client must send back with its own fields."""
    parser = _FormFields()
    parser.feed(html)
    parser.close()
    for form_action, fields in parser.forms:
        if action is None or form_action == action:
            return dict(fields)
    raise AssertionError(f"no form posting to {action!r} in the page")


# --- checking answers -------------------------------------------------------------------

SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
EMBEDDING_TAGS = {"script", "iframe", "frame", "object", "embed", "base", "applet"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset"}


class ActiveContentFinder(HTMLParser):
    """Walks a page as a browser would tokenise it and notes anything that could run.

    Parsing (not pattern matching) is what tells ``<input value="&lt;img onerror=...">``,
    harmless text in an attribute, from a real ``<img onerror=...>``.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in EMBEDDING_TAGS:
            self.found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> event handler")
            elif name == "srcdoc":
                self.found.append(f"<{tag} srcdoc=...>")
            elif name in URL_ATTRIBUTES and value is not None:
                # Browsers drop ASCII whitespace and control characters inside a scheme.
                squeezed = "".join(c for c in value if c > " ").lower()
                if squeezed.startswith(SCRIPT_SCHEMES) and not squeezed.startswith("data:image/"):
                    self.found.append(f"<{tag} {name}={value[:60]!r}> script URL")
        if tag == "meta" and any(
            n == "http-equiv" and (v or "").strip().lower() == "refresh" for n, v in attrs
        ):
            self.found.append("<meta http-equiv=refresh>")

    handle_startendtag = handle_starttag


def active_content(html: str) -> list[str]:
    finder = ActiveContentFinder()
    finder.feed(html)
    finder.close()
    return finder.found


# Every element and attribute greenweb's templates and its Markdown renderer produce. A
# page holding anything else got markup from its input: a tag (<img>, <svg>, <math>...) or
# an attribute (autofocus, style, x=) smuggled in by an unescaped quote or angle bracket.
KNOWN_TAGS = frozenset(
    "html head body title meta link main header footer nav aside article section div span "
    "p a h1 h2 h3 h4 h5 h6 ul ol li dl dt dd table caption thead tbody tr th td form label "
    "input textarea select option button fieldset legend details summary time blockquote "
    "code pre em strong s br hr data mark del ins".split()
)
KNOWN_ATTRIBUTES = frozenset(
    "action aria-current aria-describedby aria-hidden aria-invalid aria-label "
    "aria-labelledby autocomplete charset class content datetime for href hreflang id lang "
    "maxlength method minlength name rel role rows scope tabindex title type value "
    "required selected checked disabled multiple open start media sizes http-equiv "
    "placeholder inputmode readonly reversed".split()
)
# greenweb's one SVG, the bar chart of /impronta (<svg class="chart">), and what it holds:
# known inside that chart only, so a bare <svg> or a <rect> smuggled in anywhere is found.
KNOWN_CHART_TAGS = frozenset("svg title desc rect text".split())
KNOWN_CHART_ATTRIBUTES = frozenset("width height x y dx".split())
_TEXT_ALIGN = re.compile(r"text-align:(left|right|center)")


class MarkupFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.unknown: list[str] = []
        self._in_chart = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg" and not self._in_chart and ("class", "chart") in attrs:
            self._in_chart = True
        tags, attributes = KNOWN_TAGS, KNOWN_ATTRIBUTES
        if self._in_chart:
            tags, attributes = tags | KNOWN_CHART_TAGS, attributes | KNOWN_CHART_ATTRIBUTES
        if tag not in tags:
            self.unknown.append(f"<{tag}>")
        for name, value in attrs:
            if name == "style" and tag in {"th", "td"} and _TEXT_ALIGN.fullmatch(value or ""):
                continue  # Markdown table alignment
            if name not in attributes:
                self.unknown.append(f"<{tag} {name}=...>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self._in_chart = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_chart = False


def unknown_markup(html: str) -> list[str]:
    finder = MarkupFinder()
    finder.feed(html)
    finder.close()
    return finder.unknown


def assert_known_markup(html: str) -> None:
    """Only elements and attributes greenweb itself writes: input made no markup."""
    found = unknown_markup(html)
    assert not found, f"markup greenweb does not write: {found[:5]}"


def assert_no_500(response: httpx2.Response) -> None:
    assert response.status_code < 500, (
        f"{response.request.method} {str(response.request.url)[:200]} -> "
        f"{response.status_code}: {response.text[:300]}"
    )


def assert_no_active_content(html: str) -> None:
    """No script, event handler, script URL, frame or redirect in a page: greenweb has none."""
    found = active_content(html)
    assert not found, f"active content in the page: {found[:5]}"


def assert_escaped(html: str, value: str | bytes | None) -> None:
    """``value`` is not in ``html`` as it was sent, if it holds anything HTML escapes."""
    if not isinstance(value, str) or len(value) < 4 or not set(value) & set("<>\"'&"):
        return
    assert value not in html, f"unescaped input in the page: {value[:80]!r}"


def assert_reflected_escaped(html: str, value: str) -> None:
    """``value`` is shown back, escaped (proves reflection happens and is safe)."""
    assert str(escape(value)) in html, f"expected {value[:80]!r}, escaped, in the page"


def assert_no_cookies(response: httpx2.Response) -> None:
    assert "set-cookie" not in response.headers, response.headers.get_list("set-cookie")


def assert_safe_response(response: httpx2.Response, case: Hostile, expected: Iterable[int]) -> None:
    """The checks every answer to a hostile request passes: status, no 500, no cookie,
    no active content, no unescaped echo, no header made from the input."""
    allowed = set(expected)
    assert_no_500(response)
    assert response.status_code in allowed, (
        f"{case.name}: {response.status_code} not in {sorted(allowed)}: {response.text[:300]}"
    )
    assert_no_cookies(response)
    for name, value in response.headers.multi_items():
        assert "evil.example" not in value and "greenweb=1" not in value, (name, value)
    if response.headers.get("content-type", "").startswith("text/html"):
        assert_no_active_content(response.text)
        assert_escaped(response.text, case.value)


def assert_local_redirect(response: httpx2.Response, base_url: str = "") -> str:
    """A 3xx whose Location stays on this site (no open redirect through ``next``)."""
    assert 300 <= response.status_code < 400, response.status_code
    location = response.headers["location"]
    path = location[len(base_url) :] if base_url and location.startswith(base_url) else location
    squeezed = "".join(c for c in path if c > " ")
    assert squeezed.startswith("/") and not squeezed.startswith(("//", "/\\")), location
    assert "\\" not in squeezed.split("?", 1)[0], location
    return path


def assert_healthy(client: httpx2.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.text[:300]
    assert response.json()["status"] == "ok"


# --- the database -----------------------------------------------------------------------


def table_counts(db_path: Path) -> dict[str, int]:
    """Rows in every table, read without changing anything (read-only connection)."""
    uri = f"file:{quote(str(db_path.resolve()))}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        return {
            name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names
        }


def assert_unchanged(db_path: Path, before: Mapping[str, int]) -> None:
    after = table_counts(db_path)
    changed = {
        k: (before.get(k), after.get(k))
        for k in before.keys() | after.keys()
        if before.get(k) != after.get(k)
    }
    assert not changed, f"rows changed (before, after): {changed}"
