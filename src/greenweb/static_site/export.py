"""``greenweb export OUTDIR``: the public site as files, for nginx or any static host.

Every page is fetched from the app in-process, three times (no ``Accept-Encoding``, ``br``,
``gzip``), so the files are byte for byte what the app sends: ``page.html`` plus
``page.html.br`` and ``page.html.gz`` where the app compresses. Which pages: the URLs
of ``Site.export_sources`` (async callables, app -> paths; areas append their own) and
every same-site link found in the exported HTML, so paginated lists and filters come along.
Only responses the app itself calls public (200, ``Cache-Control: public``) are written;
anything else stays with the app.

File names (what ``nginx.conf`` maps back):

* ``/`` -> ``index.html``; ``/bollettino`` -> ``bollettino.html``; ``/feed.xml`` -> itself;
* with a query: ``/bollettino?tipo=bando&page=2`` -> ``bollettino@tipo=bando&page=2.html``
  (the raw query string, only when it holds no ``/`` or other unsafe character).

Layout of OUTDIR: ``site/`` (the files), ``nginx.conf`` (a sample server for them, with
writes and everything not exported proxied to the app) and a marker file; an existing
export is replaced whole, atomically from nginx's point of view.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import sys
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from starlette.applications import Starlette

from greenweb import bulletin
from greenweb.asgi_client import Captured, call, running
from greenweb.config import Settings
from greenweb.web.middleware.page_cache import storable
from greenweb.web.site import site_of

ExportSource = Callable[[Starlette], Awaitable[Iterable[str]]]

MARKER_FILE: Final = ".greenweb-export"
MAX_PAGES: Final = 100_000
# Query strings that may become part of a file name: no "/", so no path tricks.
SAFE_QUERY: Final = re.compile(r"[A-Za-z0-9=&%_.+~-]+")
_LINK: Final = re.compile(rb'(?:href|src)="([^"]*)"')
CODINGS: Final = (("br", ".br"), ("gzip", ".gz"))
BROTLI_MODULE: Final = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")


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
    for slug, _ in await bulletin.all_slugs(site.db.reader):
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
    return await call(app, "GET", target, headers)


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
    for source in site_of(app).export_sources:
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


# --- nginx ----------------------------------------------------------------------------------


def nginx_conf(
    root: Path,
    *,
    listen: str = "80",
    upstream: str = "127.0.0.1:8000",
    page_max_age: int = 60,
    types: dict[str, str] | None = None,
    brotli_module: Path | None = BROTLI_MODULE,
    user: str | None = None,
    pid: Path | None = None,
    error_log: str = "stderr",
    worker_processes: str = "auto",
) -> str:
    """A complete nginx.conf serving an export at ``root`` and sending the rest to the app."""
    page_cache = f"public, max-age={page_max_age}, stale-while-revalidate=600"
    have_brotli = brotli_module is not None and brotli_module.exists()
    exact = "".join(
        f"""
        location = {path} {{
            types {{ }}
            default_type "{content_type}";
            add_header Cache-Control "{page_cache}";
            try_files $uri @app;
        }}
"""
        for path, content_type in sorted((types or {}).items())
    )
    main = [
        "# Generated by `greenweb export`: serves the exported pages and their .br/.gz",
        "# siblings, and proxies writes, moderation and anything not exported to greenweb.",
    ]
    if have_brotli:
        main.append(f"load_module {brotli_module};")
    else:
        main.append("# brotli_static needs ngx_http_brotli_static_module")
        main.append("# (Debian: apt-get install libnginx-mod-http-brotli-static).")
    if user:
        main.append(f"user {user};")
    if pid:
        main.append(f"pid {pid};")
    main += [f"worker_processes {worker_processes};", f"error_log {error_log};"]
    brotli = "brotli_static on;" if have_brotli else "# brotli_static on;"
    return (
        "\n".join(main)
        + f"""

events {{
    worker_connections 1024;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/css text/plain text/xml text/calendar application/xml
        application/atom+xml image/svg+xml;
    access_log off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;

    # Precompressed files only: nginx never compresses on the fly here.
    gzip off;
    gzip_static on;
    gzip_vary on;
    {brotli}

    upstream greenweb {{
        server {upstream};
        keepalive 16;
    }}

    # GET and HEAD without cookies may be answered from files; anything else (POST forms,
    # a moderator's session) goes to the app.
    map $request_method $greenweb_unsafe_method {{
        GET 0;
        HEAD 0;
        default 1;
    }}
    map "$greenweb_unsafe_method$http_cookie" $greenweb_to_app {{
        "0" 0;
        default 1;
    }}
    # A query string becomes part of the file name ("/bollettino?page=2" is
    # "bollettino@page=2.html") only when it cannot name another path.
    map $args $greenweb_args {{
        "" "";
        "~^[A-Za-z0-9=&%_.+~-]+$" "@$args";
        default "@-";
    }}

    server {{
        listen {listen};
        root {root};
        error_page 418 = @app;

        location = / {{
            if ($greenweb_to_app) {{ return 418; }}
            add_header Cache-Control "{page_cache}";
            try_files /index$greenweb_args.html @app;
        }}

        location / {{
            if ($greenweb_to_app) {{ return 418; }}
            add_header Cache-Control "{page_cache}";
            try_files $uri$greenweb_args.html $uri$greenweb_args @app;
        }}

        location /static/ {{
            if ($greenweb_to_app) {{ return 418; }}
            add_header Cache-Control "public, max-age=31536000, immutable";
            try_files $uri @app;
        }}
{exact}
        location /moderazione {{
            proxy_pass http://greenweb;
            include /etc/nginx/proxy_params;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}

        location @app {{
            proxy_pass http://greenweb;
            include /etc/nginx/proxy_params;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""
    )


# --- the command ----------------------------------------------------------------------------


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    from greenweb.web.app import create_app

    app = create_app(settings)
    upstream = args.upstream or f"{settings.host}:{settings.port}"
    try:
        report = asyncio.run(export_to(app, args.outdir, listen=args.listen, upstream=upstream))
    except ExportError as error:
        print(f"greenweb export: {error}", file=sys.stderr)
        return 1
    for target, reason in report.skipped:
        print(f"greenweb export: {target}: skipped: {reason}", file=sys.stderr)
    print(
        f"{args.outdir}: {len(report.pages)} pages, {report.files} files, "
        f"{report.bytes} bytes; nginx config in {args.outdir / 'nginx.conf'}"
    )
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "export",
        help="write the public site as static files with .br/.gz siblings",
        description=(
            "Fetch every public page from the app (as it would serve it) and write it under "
            "OUTDIR/site with .br and .gz siblings, plus OUTDIR/nginx.conf: nginx then serves "
            "the read side and proxies writes and moderation to `greenweb serve`."
        ),
    )
    parser.add_argument("outdir", type=Path, help="folder to write (replaced if an old export)")
    parser.add_argument("--listen", default="80", help="nginx listen address (default: 80)")
    parser.add_argument(
        "--upstream",
        help="address of `greenweb serve` for nginx (default: GREENWEB_HOST:GREENWEB_PORT)",
    )
    parser.set_defaults(handler=export_command)
