"""Reading a page as a browser would: what it makes the browser fetch, run and build.

:func:`parse_html` counts a document's elements and collects its subresources
(stylesheets, icons, images, scripts, fonts, media, frames), its contacts with other hosts
(``preconnect`` and the like) and the bytes of JavaScript written in it (inline scripts,
``on*`` attributes, ``javascript:`` URLs); :func:`css_references` does the same for a
stylesheet's ``@import`` and ``url()``. :func:`text_of` reads a response's body for them,
its content coding undone.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final
from urllib.parse import urljoin

import brotli

from greenweb.asgi_client import Captured

# Link relations that make the browser fetch something; the others (alternate, canonical,
# prev, next, author, license, search ...) are navigation and cost nothing until followed.
_FETCHING_RELS = {
    "stylesheet": "stylesheet",
    "icon": "icon",
    "apple-touch-icon": "icon",
    "apple-touch-icon-precomposed": "icon",
    "mask-icon": "icon",
    "manifest": "manifest",
    "preload": "preload",
    "modulepreload": "script",
}
# Relations that reach another host without fetching a document; still a third-party contact.
_CONNECTING_RELS = {"preconnect", "dns-prefetch", "prefetch", "prerender"}
_PRELOAD_KINDS = {"font": "font", "script": "script", "style": "stylesheet", "image": "image"}
_JS_TYPES = {"", "module", "text/javascript", "application/javascript", "text/ecmascript"}
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""", re.IGNORECASE)
_CSS_IMPORT_STATEMENT = re.compile(r"@import[^;]*;?", re.IGNORECASE)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
FONT_SUFFIXES: Final = (".woff2", ".woff", ".ttf", ".otf", ".eot")
_HTML_TYPES: Final = ("text/html", "application/xhtml+xml")


@dataclass(frozen=True)
class Reference:
    url: str  # as written, resolved against the document's base
    kind: str  # stylesheet, script, image, icon, font, media, frame, manifest, preload, css


def css_references(css: str, base: str) -> list[Reference]:
    """``@import`` and ``url()`` references of a stylesheet; fonts when inside @font-face."""
    found = [Reference(urljoin(base, m.group(1)), "stylesheet") for m in _CSS_IMPORT.finditer(css)]
    rest = _CSS_IMPORT_STATEMENT.sub("", css)
    fonts = [(m.start(), m.end()) for m in _FONT_FACE.finditer(rest)]
    for match in _CSS_URL.finditer(rest):
        raw = next((g for g in match.groups() if g is not None), "").strip()
        if not raw or raw.startswith("#"):
            continue
        in_font_face = any(start <= match.start() < end for start, end in fonts)
        found.append(Reference(urljoin(base, raw), "font" if in_font_face else "css"))
    return found


class _PageParser(HTMLParser):
    """Counts elements and collects what a browser would fetch or run."""

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.elements = 0
        self.references: list[Reference] = []
        self.connections: list[str] = []
        self.inline_js = 0
        self._in_script = False
        self._in_style = False
        self._style_text: list[str] = []

    def _add(self, url: str | None, kind: str) -> None:
        if url is None or not url.strip():
            return
        url = url.strip()
        if url.lower().startswith("javascript:"):
            return  # counted as JavaScript in handle_starttag, not a request
        self.references.append(Reference(urljoin(self.base, url), kind))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements += 1
        a = {name: (value or "") for name, value in attrs}
        for name, value in attrs:
            if name.startswith("on") and value:
                self.inline_js += len(value.encode("utf-8"))
            elif value and value.strip().lower().startswith("javascript:"):
                self.inline_js += len(value.strip().encode("utf-8")) - len("javascript:")
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"])
        elif tag == "link":
            rels = a.get("rel", "").lower().split()
            href = a.get("href")
            if any(rel in _CONNECTING_RELS for rel in rels) and href:
                self.connections.append(urljoin(self.base, href))
            kinds = [_FETCHING_RELS[rel] for rel in rels if rel in _FETCHING_RELS]
            if kinds:
                kind = kinds[0]
                if kind == "preload":
                    kind = _PRELOAD_KINDS.get(a.get("as", "").lower(), "preload")
                self._add(href, kind)
        elif tag == "script":
            script_type = a.get("type", "").lower().strip()
            is_js = script_type in _JS_TYPES or script_type.endswith(("javascript", "ecmascript"))
            if "src" in a and is_js:
                self._add(a["src"], "script")
            self._in_script = is_js and "src" not in a
        elif tag == "style":
            self._in_style = True
        elif tag == "img" or (tag == "input" and a.get("type", "").lower() == "image"):
            src = a.get("src") or _first_srcset(a.get("srcset", ""))
            self._add(src, "image")
        elif tag in ("video", "audio"):
            self._add(a.get("poster"), "image")
            if a.get("preload", "").lower() != "none":
                self._add(a.get("src"), "media")
        elif tag in ("iframe", "frame", "embed"):
            self._add(a.get("src"), "frame")
        elif tag == "object":
            self._add(a.get("data"), "frame")
        if a.get("style"):
            for ref in css_references(a["style"], self.base):
                self.references.append(ref)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False
        elif tag == "style":
            self._in_style = False
            for ref in css_references("".join(self._style_text), self.base):
                self.references.append(ref)
            self._style_text.clear()

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.inline_js += len(data.encode("utf-8"))
        elif self._in_style:
            self._style_text.append(data)


def _first_srcset(srcset: str) -> str | None:
    first = srcset.split(",")[0].strip()
    return first.split()[0] if first else None


@dataclass(frozen=True)
class ParsedPage:
    elements: int
    references: tuple[Reference, ...]
    connections: tuple[str, ...]
    inline_js_bytes: int


def parse_html(html: str, base: str) -> ParsedPage:
    parser = _PageParser(base)
    parser.feed(html)
    parser.close()
    return ParsedPage(
        parser.elements,
        tuple(parser.references),
        tuple(parser.connections),
        parser.inline_js,
    )


def is_html(content_type: str) -> bool:
    """Whether a ``Content-Type`` names an HTML document."""
    return content_type.split(";")[0].strip().lower() in _HTML_TYPES


def _charset(content_type: str) -> str:
    match = re.search(r"charset=([\w-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else "utf-8"


def decoded_body(response: Captured) -> bytes:
    """The body with its content coding undone (for parsing and raw sizes only)."""
    encoding = response.content_encoding
    if encoding is None:
        return response.body
    if encoding == "br":
        return bytes(brotli.decompress(response.body))
    if encoding == "gzip":
        return gzip.decompress(response.body)
    raise ValueError(f"cannot read a body with content-encoding {encoding!r}")


def text_of(response: Captured) -> str:
    """The body as text, in the charset its ``Content-Type`` names (UTF-8 if none)."""
    return decoded_body(response).decode(_charset(response.content_type), errors="replace")
