"""`greenweb export`: every public page as files whose bytes are the app's, and an nginx
config that serves them and sends the rest to the app."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.static_site.export import ExportError, export_to, file_name, links
from greenweb.static_site.nginx import BROTLI_MODULE, nginx_conf
from greenweb.web.app import create_app
from greenweb.web.site import site_of
from support import SEED_TODAY, import_seed, make_settings
from support.raw_http import raw_get
from support.servers import LiveServer, find_nginx

NGINX = find_nginx()


def run_export(settings: Settings, outdir: Path, app: Starlette | None = None) -> list[str]:
    app = app or create_app(settings, today=lambda: SEED_TODAY)
    report = asyncio.run(export_to(app, outdir, listen="8080", upstream="127.0.0.1:8000"))
    return report.pages


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, list[str]]:
    """One seeded database and one export of it, shared by the tests that only read them."""
    folder = tmp_path_factory.mktemp("export")
    settings = make_settings(folder)
    import_seed(settings)
    outdir = folder / "export"
    return settings, outdir, run_export(settings, outdir)


@pytest.fixture
def exported(shared: tuple[Settings, Path, list[str]]) -> tuple[Path, list[str]]:
    return shared[1], shared[2]


@pytest.fixture
def export_settings(shared: tuple[Settings, Path, list[str]]) -> Settings:
    return shared[0]


def test_export_writes_every_public_page_and_asset(exported: tuple[Path, list[str]]) -> None:
    outdir, pages = exported
    site = outdir / "site"
    for name in (
        "index.html",
        "bollettino.html",
        "scadenze.html",
        "eventi.html",
        "feed.xml",
        "sitemap.xml",
        "robots.txt",
        "calendario.ics",
    ):
        assert (site / name).is_file(), name
    items = list((site / "bollettino").glob("*.html"))
    assert len(items) == 12
    assert list((site / "static").glob("style.*.css"))
    # Filters and tags are found by following links.
    assert (site / "bollettino@tipo=bando.html").is_file()
    assert list(site.glob("bollettino@tag=*.html"))
    assert (outdir / "nginx.conf").is_file()
    assert "/cerca" not in " ".join(pages)  # search results stay with the app


def test_compressed_siblings_exist_where_the_app_compresses(
    exported: tuple[Path, list[str]],
) -> None:
    site = exported[0] / "site"
    for name in ("index.html", "bollettino.html", "feed.xml"):
        assert (site / f"{name}.br").is_file()
        assert (site / f"{name}.gz").is_file()
    assert not (site / "robots.txt.br").exists()  # too small to gain


def test_exported_bytes_are_identical_to_live_responses(
    export_settings: Settings, exported: tuple[Path, list[str]]
) -> None:
    outdir, pages = exported
    site = outdir / "site"
    app = create_app(export_settings, today=lambda: SEED_TODAY)
    checked = 0
    with TestClient(app) as client:
        for target in pages:
            if target == "/impronta":
                continue  # its CPU figures are measured anew by each process
            name = file_name(target, "text/html")
            if name is None or not (site / name).exists():
                name = file_name(target, None)
            assert name is not None and (site / name).exists(), target
            for suffix, coding in (("", "identity"), (".br", "br"), (".gz", "gzip")):
                path = site / (name + suffix)
                if not path.exists():
                    continue
                with client.stream("GET", target, headers={"Accept-Encoding": coding}) as live:
                    raw = b"".join(live.iter_raw())
                assert raw == path.read_bytes(), (target, coding)
                checked += 1
    assert checked > 3 * 20


@pytest.mark.parametrize(
    ("target", "content_type", "expected"),
    [
        ("/", "text/html; charset=utf-8", "index.html"),
        ("/bollettino", "text/html", "bollettino.html"),
        ("/bollettino/un-bando", "text/html", "bollettino/un-bando.html"),
        ("/feed.xml", "application/atom+xml", "feed.xml"),
        ("/static/style.0123456789.css", "text/css", "static/style.0123456789.css"),
        ("/bollettino?tipo=bando&page=2", "text/html", "bollettino@tipo=bando&page=2.html"),
        (
            "/bollettino?tag=sostenibilit%C3%A0",
            "text/html",
            "bollettino@tag=sostenibilit%C3%A0.html",
        ),
        ("/?page=2", "text/html", "index@page=2.html"),
        ("/bollettino?tag=a/../../x", "text/html", None),
        ("/../etc/passwd", "text/html", None),
        ("/bollettino//x", "text/html", None),
        ("/healthz", "application/json", None),
        ("/feed.xml?x=1", "application/atom+xml", None),
    ],
)
def test_file_names_map_clean_urls_and_refuse_unsafe_ones(
    target: str, content_type: str, expected: str | None
) -> None:
    assert file_name(target, content_type) == expected


def test_links_keep_same_site_paths_and_unescape_queries() -> None:
    html = (
        b'<a href="/bollettino?tipo=bando&amp;page=2">x</a><a href="https://example.org/">e</a>'
        b'<a href="//cdn.example/x">c</a><a href="http://t/eventi#oggi">a</a>'
        b'<a href="mailto:a@b">m</a><link href="/static/s.css">'
    )
    assert links(html, "http://t") == ["/bollettino?tipo=bando&page=2", "/eventi", "/static/s.css"]


def test_export_refuses_a_folder_holding_something_else(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    outdir = tmp_path / "mine"
    outdir.mkdir()
    (outdir / "tesi.odt").write_text("non toccare")
    with pytest.raises(ExportError, match="not empty"):
        run_export(seeded_settings, outdir)
    assert [p.name for p in outdir.iterdir()] == ["tesi.odt"]


def test_export_again_replaces_the_old_one(
    exported: tuple[Path, list[str]], seeded_settings: Settings
) -> None:
    outdir, _ = exported
    (outdir / "site" / "vecchia-pagina.html").write_text("old")
    run_export(seeded_settings, outdir)
    assert not (outdir / "site" / "vecchia-pagina.html").exists()
    assert (outdir / "site" / "index.html").exists()
    assert sorted(p.name for p in outdir.iterdir()) == [".greenweb-export", "nginx.conf", "site"]


def test_areas_can_add_export_sources(seeded_settings: Settings, tmp_path: Path) -> None:
    async def example_GET(request: Request) -> Response:
        return Response("<!doctype html><p>Dubbi sul clima</p>", media_type="text/html")

    async def example(app: Starlette) -> list[str]:
        return ["/esempio"]

    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    app.router.routes.append(Route("/esempio", example_GET))
    site_of(app).export_sources.append(example)
    pages = run_export(seeded_settings, tmp_path / "out", app)
    assert "/esempio" in pages
    assert (tmp_path / "out" / "site" / "esempio.html").read_text() == (
        "<!doctype html><p>Dubbi sul clima</p>"
    )


def test_a_page_that_fails_stops_the_export_and_keeps_the_old_one(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    async def broken_GET(request: Request) -> Response:
        raise RuntimeError("pagina rotta")

    async def broken(app: Starlette) -> list[str]:
        return ["/rotta"]

    outdir = tmp_path / "out"
    run_export(seeded_settings, outdir)
    app = create_app(seeded_settings, today=lambda: SEED_TODAY)
    app.router.routes.append(Route("/rotta", broken_GET))
    site_of(app).export_sources.append(broken)
    with pytest.raises(RuntimeError, match="pagina rotta"):
        run_export(seeded_settings, outdir, app)
    assert sorted(p.name for p in outdir.iterdir()) == [".greenweb-export", "nginx.conf", "site"]
    assert (outdir / "site" / "index.html").exists()


# --- nginx in front ------------------------------------------------------------------------


@pytest.fixture
def nginx_and_app(
    export_settings: Settings, exported: tuple[Path, list[str]], tmp_path: Path
) -> Iterator[tuple[int, Path]]:
    if NGINX is None or not BROTLI_MODULE.exists():
        pytest.skip("needs nginx-light and libnginx-mod-http-brotli-static (apt)")
    outdir, _ = exported
    nginx_dir = tmp_path / "nginx"
    with LiveServer.greenweb(tmp_path / "app", export_settings.db_path) as app:

        def config(port: int) -> str:
            return nginx_conf(
                (outdir / "site").resolve(),
                listen=f"127.0.0.1:{port}",
                upstream=app.address,
                types={"/feed.xml": "application/atom+xml; charset=utf-8"},
                user="root" if os.geteuid() == 0 else None,
                pid=nginx_dir / "nginx.pid",
                error_log=str(nginx_dir / "nginx-error.log"),
                worker_processes="1",
            )

        with LiveServer.nginx(nginx_dir, config) as nginx:
            checked = subprocess.run(
                [NGINX, "-t", "-q", "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf")],
                capture_output=True,
                text=True,
            )
            assert checked.returncode == 0, checked.stderr
            yield nginx.port, outdir / "site"


@pytest.mark.slow
def test_nginx_serves_the_exported_files_byte_for_byte(nginx_and_app: tuple[int, Path]) -> None:
    port, site = nginx_and_app
    for target, name in (
        ("/", "index.html"),
        ("/bollettino?tipo=bando", "bollettino@tipo=bando.html"),
    ):
        for coding, suffix in (("br", ".br"), ("gzip", ".gz"), ("", "")):
            raw = raw_get(port, target, {"Accept-Encoding": coding} if coding else {})
            assert raw.status == 200
            assert raw.body == (site / (name + suffix)).read_bytes(), (target, coding)
            assert raw.header("content-type") == "text/html; charset=utf-8"
            assert raw.header("cache-control") == "public, max-age=60, stale-while-revalidate=600"
    feed = raw_get(port, "/feed.xml", {"Accept-Encoding": "br"})
    assert feed.header("content-encoding") == "br"
    assert feed.header("content-type") == "application/atom+xml; charset=utf-8"
    css = next((site / "static").glob("style.*.css")).name
    asset = raw_get(port, f"/static/{css}", {"Accept-Encoding": "gzip"})
    assert asset.header("cache-control") == "public, max-age=31536000, immutable"
    assert asset.header("content-encoding") == "gzip"


@pytest.mark.slow
def test_nginx_sends_writes_cookies_and_unexported_pages_to_the_app(
    nginx_and_app: tuple[int, Path],
) -> None:
    port, _ = nginx_and_app
    search = raw_get(port, "/cerca?q=bando", {"Accept-Encoding": "identity"})
    assert search.status == 200 and b"Cerca" in search.body
    assert raw_get(port, "/healthz").status == 200
    # A page number nobody exported is the app's to answer (a 404 page in Italian).
    missing = raw_get(port, "/bollettino?page=99")
    assert missing.status == 404 and b"non esiste" in missing.body
    # A POST reaches the app, which answers 405 in Italian (nginx's own 405 is English).
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 405")
    assert b"Metodo non consentito" in reply
    # A visitor with a cookie (a moderator) gets the app's page, not a file.
    with_cookie = raw_get(port, "/", {"Cookie": "session=x"})
    assert with_cookie.status == 200 and with_cookie.header("etag") is not None
    assert '"' in (with_cookie.header("etag") or "") and "-" not in (
        with_cookie.header("etag") or "-"
    )
