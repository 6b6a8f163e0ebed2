"""``greenweb export OUTDIR``: the public site as files, for nginx or any static host.

Every page is fetched from the app in-process (:mod:`greenweb.asgi_client`), three times
(no ``Accept-Encoding``, ``br``, ``gzip``), so the files are byte for byte what the app
sends: ``page.html`` plus ``page.html.br`` and ``page.html.gz`` where the app compresses.
Which pages: the foundation's (:func:`core_urls`), the URLs of ``Site.export_sources``
(async callables, app -> paths; areas append their own) and
every same-site link found in the exported HTML, so paginated lists and filters come along.
Only responses the app itself calls public (200, ``Cache-Control: public``) are written;
anything else stays with the app.

File names (what ``nginx.conf`` maps back):

* ``/`` -> ``index.html``; ``/bollettino`` -> ``bollettino.html``; ``/feed.xml`` -> itself;
* with a query: ``/bollettino?tipo=bando&page=2`` -> ``bollettino@tipo=bando&page=2.html``
  (the raw query string, only when it holds no ``/`` or other unsafe character).

Layout of OUTDIR: ``site/`` (the files), ``nginx.conf`` (a sample server for them, with
writes and everything not exported proxied to the app: :mod:`.nginx`) and a marker file;
an existing export is replaced whole, atomically from nginx's point of view.
"""

from __future__ import annotations

import html
import os
import re
import shutil
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from starlette.applications import Starlette

from greenweb.asgi_client import Captured, request, running
from greenweb.bulletin import queries
from greenweb.static_site.nginx import nginx_conf
from greenweb.web.middleware.page_cache import storable
from greenweb.web.site import ExportSource, site_of

MARKER_FILE: Final = ".greenweb-export"
MAX_PAGES: Final = 100_000
# Query strings that may become part of a file name: no "/", so no path tricks.
SAFE_QUERY: Final = re.compile(r"[A-Za-z0-9=&%_.+~-]+")
_LINK: Final = re.compile(rb'(?:href|src)="([^"]*)"')
CODINGS: Final = (("br", ".br"), ("gzip", ".gz"))


class ExportError(Exception):
    """The export cannot go on (OUTDIR holds something else, a page fails)."""


@dataclass
class ExportReport:
    pages: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # Content type of each exported file named with an extension (feeds, robots.txt...):
    # nginx.conf states them, since nginx would guess from the extension.
    types: dict[str, str] = field(default_factory=dict)


async def core_urls(app: Starlette) -> list[str]:
    """The foundation's public URLs: pages, bulletin items, feeds, static files."""
    router = app.router
    site = site_of(app)
    urls = [str(router.url_path_for(name)) for name in site.sitemap_pages]
    urls += [str(router.url_path_for(name)) for name in ("feed", "calendar", "sitemap", "robots")]
    for slug, _ in await queries.all_slugs(site.db.reader):
        urls.append(str(router.url_path_for("bulletin_item", slug=slug)))
    urls += [site.assets.url(name) for name in site.assets.by_name]
    return urls


def file_name(target: str, content_type: str | None) -> str | None:
    """Where ``target`` (path and query) is written inside ``site/``; None if it cannot be."""
    path, _, query = target.partition("?")
    path = unquote(path)
    if not path.startswith("/") or "\x00" in path:
        return None
    segments = path[1:].split("/") if path != "/" else ["index"]
    if any(s in ("", ".", "..") for s in segments):
        return None
    last = segments[-1]
    has_extension = "." in last
    if query:
        if has_extension or not SAFE_QUERY.fullmatch(query):
            return None
        last = f"{last}@{query}"
    if not has_extension:
        if not (content_type or "").startswith("text/html"):
            return None
        last += ".html"
    return "/".join([*segments[:-1], last])


# Paths whose answers depend on free text typed by a reader: no set of files can hold them,
# so they stay with the app (nginx.conf proxies them) even when a page links to one.
APP_ONLY_PATHS = frozenset({"/cerca"})


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
        if parts.path in APP_ONLY_PATHS:
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _write(root: Path, name: str, body: bytes, report: ExportReport) -> None:
    target = root / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    report.files += 1
    report.bytes += len(body)


async def _fetch(app: Starlette, target: str, coding: str | None) -> Captured:
    headers = [(b"accept-encoding", coding.encode())] if coding else []
    return await request(app, target, headers=headers)


async def export_site(app: Starlette, site: Path, *, max_pages: int = MAX_PAGES) -> ExportReport:
    """Write every public page of the running ``app`` under ``site`` (an empty folder)."""
    report = ExportReport()
    base_url = site_of(app).settings.base_url
    queue: deque[str] = deque()
    seen: set[str] = set()

    def enqueue(targets: Iterable[str]) -> None:
        for target in targets:
            if target not in seen:
                seen.add(target)
                queue.append(target)

    source: ExportSource
    for source in (core_urls, *site_of(app).export_sources):
        enqueue(await source(app))
    while queue:
        if len(report.pages) >= max_pages:
            raise ExportError(f"more than {max_pages} pages: is a link generating new URLs?")
        target = queue.popleft()
        plain = await _fetch(app, target, None)
        if not storable(plain.status, plain.headers):
            report.skipped.append((target, f"{plain.status}, not public"))
            continue
        content_type = plain.header("content-type")
        name = file_name(target, content_type)
        if name is None:
            report.skipped.append((target, "no file name for it"))
            continue
        _write(site, name, plain.body, report)
        report.pages.append(target)
        if not name.endswith(".html") and not target.startswith("/static/"):
            report.types[target.partition("?")[0]] = content_type or "application/octet-stream"
        if "accept-encoding" in (plain.header("vary") or "").lower():
            for coding, suffix in CODINGS:
                encoded = await _fetch(app, target, coding)
                if encoded.status == 200 and encoded.header("content-encoding") == coding:
                    _write(site, name + suffix, encoded.body, report)
        if content_type and content_type.startswith("text/html"):
            enqueue(links(plain.body, base_url))
    return report


async def export_to(app: Starlette, outdir: Path, *, listen: str, upstream: str) -> ExportReport:
    """Export into ``outdir/site`` and write ``outdir/nginx.conf``, replacing an old export."""
    if outdir.exists() and any(outdir.iterdir()) and not (outdir / MARKER_FILE).exists():
        raise ExportError(f"{outdir}: not empty and not a greenweb export; choose another folder")
    outdir.mkdir(parents=True, exist_ok=True)
    fresh = outdir / f"site.new-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir()
    try:
        async with running(app):
            report = await export_site(app, fresh)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    site = outdir / "site"
    old = outdir / f"site.old-{os.getpid()}"
    if site.exists():
        site.rename(old)
    fresh.rename(site)
    shutil.rmtree(old, ignore_errors=True)
    settings = site_of(app).settings
    (outdir / "nginx.conf").write_text(
        nginx_conf(
            site.resolve(),
            listen=listen,
            upstream=upstream,
            page_max_age=settings.page_max_age,
            types=report.types,
        )
    )
    (outdir / MARKER_FILE).write_text("greenweb export\n")
    return report
