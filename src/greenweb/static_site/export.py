"""``greenweb export OUTDIR``: the public site as files, for nginx or any static host.

Every page is fetched from the app in-process (:mod:`greenweb.asgi_client`), three times
(no ``Accept-Encoding``, ``br``, ``gzip``), so the files are byte for byte what the app
sends: ``page.html`` plus ``page.html.br`` and ``page.html.gz`` where the app compresses.
Which pages: the foundation's (:func:`core_urls`), the URLs of ``Site.export_sources``
(async callables, app -> paths; areas append their own) and the same-site links found in
the exported HTML, less what :mod:`.crawl` leaves to the app (nginx.conf proxies it).
Only responses the app itself calls shareable (the page cache's own test) are written;
anything else stays with the app. A few pages are in flight at once (:data:`CONCURRENCY`),
so that one waiting for SQLite, or for compression in another thread, holds up no other.

Why this much and no more: the benchmark board (``benchmarks/generate_data.py DB``: 2,000
items, 10,000 questions), ``time greenweb export OUT`` on this 2-core machine, shared, on
2 December 2026. Crawling every link took 12 min 14 s (5 min 24 s of CPU, load average
7-17) for 5,763 pages; ``python -m cProfile`` put 60 % of the CPU in brotli 11 (each kept
page is stamped with its own weight, one brotli-11 pass or more per coding) and most of the
rest in rendering. So the cost is the number of pages: :mod:`.crawl` keeps the ones
visitors reach first (every item, every list's first page in each order and filter) and
skips what nginx proxies anyway. Now 2,113 pages, 6,337 files, 17.6 MB: 74 s (67 s of CPU,
load average 1-4) while the stamp takes up to 7 brotli-11 passes per page; once it takes
one, 24 s (26 s of CPU, load average 3-4), and 17 s for a re-export with nothing changed.

Layout of OUTDIR: ``site/`` (the files, named by :func:`.files.file_name`), ``nginx.conf``
(a sample server for them, with writes and everything not exported proxied to the app:
:mod:`.nginx`) and a marker file that says the folder is an export (any other non-empty
folder is refused). A re-export writes only the files whose bytes changed, renamed into
place once every page is fetched, and removes the files of pages that are gone
(:mod:`.files`): for unchanged content it writes nothing. A failed export changes nothing.
"""

from __future__ import annotations

import asyncio
import fcntl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from starlette.applications import Starlette

from greenweb.asgi_client import Captured, request, running
from greenweb.bulletin import queries
from greenweb.static_site.crawl import PrivateRoutes, left_to_app, links
from greenweb.static_site.files import FileCounts, SiteFiles, file_name, replace_if_changed
from greenweb.static_site.nginx import nginx_conf
from greenweb.web.middleware.page_cache import storable
from greenweb.web.site import ExportSource, site_of

MARKER_FILE: Final = ".greenweb-export"
MAX_PAGES: Final = 100_000
CODINGS: Final = (("br", ".br"), ("gzip", ".gz"))
# Pages fetched at once: enough to keep 2 cores busy while one page waits for SQLite or
# compresses in a thread, few enough that the page cache is not flooded.
CONCURRENCY: Final = 4

# Called with (pages done, pages found so far) after each page.
Progress = Callable[[int, int], None]


class ExportError(Exception):
    """The export cannot go on (OUTDIR holds something else, a page fails)."""


@dataclass
class ExportReport:
    pages: list[str] = field(default_factory=list)
    files: FileCounts = field(default_factory=FileCounts)
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


async def _fetch(app: Starlette, target: str, coding: str | None) -> Captured:
    headers = [(b"accept-encoding", coding.encode())] if coding else []
    return await request(app, target, headers=headers)


class _Crawl:
    """One export's crawl: the URLs found, the pages fetched, the files they make."""

    def __init__(
        self, app: Starlette, files: SiteFiles, max_pages: int, progress: Progress | None
    ) -> None:
        self.app = app
        self.files = files
        self.max_pages = max_pages
        self.progress = progress
        self.base_url = site_of(app).settings.base_url
        self.private = PrivateRoutes(app)
        self.report = ExportReport()
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.seen: set[str] = set()
        self.done = 0

    def enqueue(self, targets: Iterable[str]) -> None:
        for target in targets:
            if target not in self.seen and left_to_app(target) is None:
                if len(self.seen) >= self.max_pages:
                    raise ExportError(
                        f"more than {self.max_pages} pages: is a link generating new URLs?"
                    )
                self.seen.add(target)
                self.queue.put_nowait(target)

    async def run(self) -> ExportReport:
        source: ExportSource
        for source in (core_urls, *site_of(self.app).export_sources):
            self.enqueue(await source(self.app))
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(CONCURRENCY):
                    group.create_task(self.worker())
                await self.queue.join()
                for _ in range(CONCURRENCY):
                    self.queue.put_nowait(None)
        except BaseExceptionGroup as failed:
            # One page's failure is the export's: raise it as it was raised.
            raise failed.exceptions[0] from None
        report = self.report
        report.pages.sort()
        report.skipped.sort()
        report.types = dict(sorted(report.types.items()))
        return report

    async def worker(self) -> None:
        while (target := await self.queue.get()) is not None:
            try:
                await self.visit(target)
                self.done += 1
                if self.progress is not None:
                    self.progress(self.done, len(self.seen))
            finally:
                self.queue.task_done()

    async def visit(self, target: str) -> None:
        path = target.partition("?")[0]
        known = self.private.reason(path)
        if known is not None:
            self.report.skipped.append((target, known))
            return
        plain = await _fetch(self.app, target, None)
        if not storable(plain.status, plain.headers):
            reason = f"{plain.status}, not public"
            if plain.status == 200:
                reason = self.private.learn(path, reason)
            self.report.skipped.append((target, reason))
            return
        content_type = plain.header("content-type")
        name = file_name(target, content_type)
        if name is None:
            self.report.skipped.append((target, "no file name for it"))
            return
        self.files.put(name, plain.body)
        self.report.pages.append(target)
        if not name.endswith(".html") and not target.startswith("/static/"):
            self.report.types[path] = content_type or "application/octet-stream"
        if "accept-encoding" in (plain.header("vary") or "").lower():
            for coding, suffix in CODINGS:
                encoded = await _fetch(self.app, target, coding)
                if encoded.status == 200 and encoded.header("content-encoding") == coding:
                    self.files.put(name + suffix, encoded.body)
        if content_type and content_type.startswith("text/html"):
            self.enqueue(links(plain.body, self.base_url))


async def export_site(
    app: Starlette,
    files: SiteFiles,
    *,
    max_pages: int = MAX_PAGES,
    progress: Progress | None = None,
) -> ExportReport:
    """Put every public page of the running ``app`` into ``files`` (nothing committed)."""
    report = await _Crawl(app, files, max_pages, progress).run()
    report.files = files.counts
    return report


@contextmanager
def _export_folder(outdir: Path) -> Iterator[None]:
    """OUTDIR as an export, held by this process alone for the time of the block."""
    marker = outdir / MARKER_FILE
    if outdir.exists() and any(outdir.iterdir()) and not marker.exists():
        raise ExportError(f"{outdir}: not empty and not a greenweb export; choose another folder")
    outdir.mkdir(parents=True, exist_ok=True)
    with marker.open("a") as held:
        try:
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ExportError(f"{outdir}: another export is writing it") from None
        if held.tell() == 0:
            held.write("greenweb export\n")
            held.flush()
        yield


async def export_to(
    app: Starlette,
    outdir: Path,
    *,
    listen: str,
    upstream: str,
    progress: Progress | None = None,
) -> ExportReport:
    """Export into ``outdir/site`` and write ``outdir/nginx.conf``, updating an old export."""
    with _export_folder(outdir):
        site = outdir / "site"
        site.mkdir(exist_ok=True)
        files = SiteFiles(site)
        try:
            async with running(app):
                report = await export_site(app, files, progress=progress)
        except BaseException:
            files.discard()
            raise
        files.commit()
        settings = site_of(app).settings
        conf = nginx_conf(
            site.resolve(),
            listen=listen,
            upstream=upstream,
            page_max_age=settings.page_max_age,
            types=report.types,
        )
        replace_if_changed(outdir / "nginx.conf", conf.encode())
    return report
