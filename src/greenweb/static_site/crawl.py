"""What ``greenweb export`` fetches: the links it follows, and what it leaves to the app.

Whatever is not exported is still answered: ``nginx.conf`` sends every URL that has no file
to the app (``try_files ... @app``), so leaving a page out costs a proxied request, never
a broken link. What is left out, and why:

* **Paths nginx always proxies** (:data:`greenweb.static_site.nginx.APP_PREFIXES`, the
  moderation): files there would never be served. The public moderation log alone is
  1,103 pages with the benchmark board.
* **Answers to free text** (``/cerca``): no set of files can hold them.
* **``/impronta``**: it measures the site anew for each content version, pages with
  single-use form tokens included, whose brotli size differs by a byte from one token to
  the next: two exports of one database would never agree on it.
* **Lists beyond their first page** (``page`` above 1): every order, topic, type and tag
  of every list is exported on its first page, where the site's links lead; the pages
  after it are what the benchmark board multiplies (3 orders x 7 topics x up to 445 pages
  of ``/domande``, the bulletin's types x tags), visited far less than they cost. Left to
  the app, they are also never older than the page before them: exported deep pages
  would shift by one item with every new question, showing the same question twice, or
  none, to a reader who pages from an exported page onto a proxied one. With the
  benchmark board the plain lists' later pages alone (630 of them, found one "next" link
  at a time, so one after the other) took the export from 21 s to 50 s (the figures of
  :mod:`.export`, same command, load average 7-9).
* **Routes whose pages are not public** (a form token, a visitor's own state: the view
  sets ``Cache-Control: no-store`` or ``private``): whether a page may be shared is the
  view's decision, the same for every URL of its route, so after the first such answer
  the other URLs of that route are not fetched (8,900 question pages of the benchmark
  board, each rendered only to be refused).
"""

from __future__ import annotations

import html
import re
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from starlette.applications import Starlette
from starlette.routing import Match, Route

from greenweb.static_site.nginx import APP_PREFIXES

_LINK: Final = re.compile(rb'(?:href|src)="([^"]*)"')
PAGE_PARAMETER: Final = "page"

# Paths whose pages stay with the app even when a page links to them, and why.
APP_ONLY_PATHS: Final = {
    "/cerca": "answers free text",
    "/impronta": "measured anew for every content version",
}


def links(body: bytes, base_url: str) -> list[str]:
    """Same-site link targets (path and query) of an HTML page."""
    found = []
    for raw in _LINK.findall(body):
        url = html.unescape(raw.decode("utf-8", "replace")).split("#", 1)[0]
        if url.startswith(base_url + "/"):
            url = url[len(base_url) :]
        if not url.startswith("/") or url.startswith("//"):
            continue
        parts = urlsplit(url)
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def left_to_app(target: str) -> str | None:
    """Why ``target`` (path and query) is not exported, or None when it is to be fetched."""
    path, _, query = target.partition("?")
    if path in APP_ONLY_PATHS:
        return APP_ONLY_PATHS[path]
    if any(path == prefix or path.startswith(prefix + "/") for prefix in APP_PREFIXES):
        return "nginx sends it to the app"
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == PAGE_PARAMETER and value not in ("", "1"):
            return "a list beyond its first page"
    return None


class PrivateRoutes:
    """The routes of an app whose pages turned out not to be public."""

    def __init__(self, app: Starlette) -> None:
        self._routes = [route for route in app.routes if isinstance(route, Route)]
        self._reasons: dict[str, str] = {}

    def route_of(self, path: str) -> str | None:
        """The path pattern of the route that answers GET ``path``, if any."""
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.path
        return None

    def reason(self, path: str) -> str | None:
        """Why the route of ``path`` is not exported, once one of its pages said so."""
        route = self.route_of(path)
        return None if route is None else self._reasons.get(route)

    def learn(self, path: str, reason: str) -> str:
        """Every page of the route of ``path`` is refused for ``reason``; returns the
        reason as the report gives it, naming the route."""
        route = self.route_of(path)
        if route is None:
            return reason
        return self._reasons.setdefault(route, f"{reason} (every page of {route})")
