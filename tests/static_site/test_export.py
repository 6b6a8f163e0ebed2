"""`greenweb export`: every public page as files whose bytes are the app's, an nginx
config that serves them and sends the rest to the app, and re-exports that write only what
changed."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from greenweb.config import Settings
from greenweb.static_site.crawl import links
from greenweb.static_site.export import ExportError, ExportReport, export_to
from greenweb.static_site.files import file_name
from greenweb.static_site.nginx import BROTLI_MODULE, nginx_conf
from greenweb.web.app import create_app
from greenweb.web.middleware.representation import page_cache_control
from greenweb.web.site import site_of
from greenweb.web.views.assets import IMMUTABLE
from support import SEED_DIR, SEED_TODAY, folder_holding, import_seed, make_settings
from support.factory import write_generated
from support.raw_http import raw_get
from support.servers import LiveServer, find_nginx

NGINX = find_nginx()
# The seed's 12 items and 25 generated ones: the bulletin's list has a second page.
ITEMS = 12 + 25
PAGE_CACHE_CONTROL = page_cache_control(60).decode()
OLD = 1_000_000_000  # an mtime long past (seconds)


def export(settings: Settings, outdir: Path, app: Starlette | None = None) -> ExportReport:
    app = app or create_app(settings, today=lambda: SEED_TODAY)
    return asyncio.run(export_to(app, outdir, listen="8080", upstream="127.0.0.1:8000"))


def run_export(settings: Settings, outdir: Path, app: Starlette | None = None) -> list[str]:
    return export(settings, outdir, app).pages


def bulletin_folder(folder: Path) -> Path:
    """The seed bulletin and 25 generated items, as files one can edit."""
    bulletin = folder / "bulletin"
    shutil.copytree(SEED_DIR, bulletin)
    write_generated(bulletin, 25)
    return bulletin


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path, list[str]]:
    """One database and one export of it, shared by the tests that only read them."""
    folder = tmp_path_factory.mktemp("export")
    settings = make_settings(folder)
    import_seed(settings, bulletin_folder(folder))
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
    items = [p for p in (site / "bollettino").glob("*.html") if p.name != "numeri.html"]
    assert len(items) == ITEMS
    # The archive of numeri, numero 1 (the seed's numeri.toml) and their feed.
    for name in ("numeri.html", "numeri/1.html", "numeri/feed.xml"):
        assert (site / "bollettino" / name).is_file(), name
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


def test_export_refuses_a_folder_holding_something_else(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    outdir = folder_holding(tmp_path / "mine", "tesi.odt", "non toccare")
    with pytest.raises(ExportError, match="not empty"):
        run_export(seeded_settings, outdir)
    assert [p.name for p in outdir.iterdir()] == ["tesi.odt"]


def test_export_again_removes_what_is_no_longer_exported(
    exported: tuple[Path, list[str]], export_settings: Settings
) -> None:
    outdir, _ = exported
    (outdir / "site" / "vecchia-pagina.html").write_text("old")
    assert export(export_settings, outdir).files.removed == 1
    assert not (outdir / "site" / "vecchia-pagina.html").exists()
    assert (outdir / "site" / "index.html").exists()
    assert sorted(p.name for p in outdir.iterdir()) == [".greenweb-export", "nginx.conf", "site"]


def with_page(
    settings: Settings, path: str, endpoint: Callable[[Request], Awaitable[Response]]
) -> Starlette:
    """The app, with one more page at ``path`` that its area adds to the export."""

    async def source(app: Starlette) -> list[str]:
        return [path]

    app = create_app(settings, today=lambda: SEED_TODAY)
    app.router.routes.append(Route(path, endpoint))
    site_of(app).export_sources.append(source)
    return app


def test_areas_can_add_export_sources(seeded_settings: Settings, tmp_path: Path) -> None:
    async def example_GET(request: Request) -> Response:
        return Response("<!doctype html><p>Dubbi sul clima</p>", media_type="text/html")

    app = with_page(seeded_settings, "/esempio", example_GET)
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

    outdir = tmp_path / "out"
    run_export(seeded_settings, outdir)
    (outdir / "site" / "vecchia-pagina.html").write_text("old")
    before = files_of(outdir)
    with pytest.raises(RuntimeError, match="pagina rotta"):
        run_export(seeded_settings, outdir, with_page(seeded_settings, "/rotta", broken_GET))
    assert sorted(p.name for p in outdir.iterdir()) == [".greenweb-export", "nginx.conf", "site"]
    # Nothing written, nothing removed, no temporary file left behind.
    assert files_of(outdir) == before


def test_an_export_already_writing_the_folder_refuses_a_second_one(
    seeded_settings: Settings, tmp_path: Path
) -> None:
    async def waiting_GET(request: Request) -> Response:
        # While the first export fetches this page, a second one starts on the same folder.
        second = asyncio.to_thread(run_export, seeded_settings, tmp_path / "out")
        with pytest.raises(ExportError, match="another export"):
            await second
        return Response("<!doctype html><p>attesa</p>", media_type="text/html")

    app = with_page(seeded_settings, "/attesa", waiting_GET)
    assert "/attesa" in run_export(seeded_settings, tmp_path / "out", app)


# --- a re-export writes only what changed ---------------------------------------------------


def files_of(outdir: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``outdir``: its bytes and mtime (ns)."""
    return {
        path.relative_to(outdir).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(outdir.rglob("*"))
        if path.is_file()
    }


def age(outdir: Path) -> None:
    """Date every file long ago: a file written again gets a new mtime."""
    for path in outdir.rglob("*"):
        if path.is_file():
            os.utime(path, (OLD, OLD))


def rewritten(outdir: Path) -> set[str]:
    return {name for name, (_, mtime) in files_of(outdir).items() if mtime != OLD * 10**9}


def test_export_again_after_no_change_writes_nothing_and_keeps_every_mtime(
    exported: tuple[Path, list[str]], export_settings: Settings
) -> None:
    outdir, _ = exported
    age(outdir)
    before = files_of(outdir)
    counts = export(export_settings, outdir).files
    assert (counts.written, counts.written_bytes, counts.removed) == (0, 0, 0)
    assert counts.unchanged == counts.files == len(before) - 2  # all but nginx.conf, marker
    assert files_of(outdir) == before


@pytest.fixture
def seed_export(settings: Settings, seed_copy: Path, tmp_path: Path) -> Path:
    """An export of the seed bulletin imported from ``seed_copy``, files one may edit."""
    import_seed(settings, seed_copy)
    outdir = tmp_path / "out"
    export(settings, outdir)
    return outdir


def test_one_changed_item_rewrites_its_page_and_the_pages_showing_it_only(
    settings: Settings, seed_copy: Path, seed_export: Path
) -> None:
    outdir = seed_export
    site = outdir / "site"
    item = seed_copy / "04-horizon-europe.md"
    text = item.read_text()
    title = re.search(r'^title = "(.*)"$', text, re.MULTILINE)
    assert title is not None
    shown = title.group(1).encode()
    showing = {
        name
        for name, (body, _) in files_of(site).items()
        if not name.endswith((".br", ".gz")) and shown in body
    }
    # The item, the lists and the feed show the title; other items and lists do not.
    assert {"bollettino/horizon-europe.html", "bollettino.html", "feed.xml"} <= showing
    assert "bollettino/top-of-the-pid.html" not in showing
    item.write_text(text.replace(title.group(0), f'title = "{title.group(1)} (aggiornato)"'))
    import_seed(settings, seed_copy)
    age(outdir)
    counts = export(settings, outdir).files
    # Numero 1 is frozen: it says what it said of the item when it was published.
    frozen = {name for name in showing if name.startswith("bollettino/numeri/")}
    assert frozen == {"bollettino/numeri/1.html", "bollettino/numeri/feed.xml"}
    # Its page gains the link to the item's current version; its feed stays as it was.
    relinked = showing - frozen | {"bollettino/numeri/1.html"}
    expected = {
        name + suffix
        for name in relinked
        for suffix in ("", ".br", ".gz")
        if (site / (name + suffix)).exists()
    }
    assert rewritten(site) == expected
    numero = (site / "bollettino/numeri/1.html").read_bytes()
    assert shown in numero
    assert b"versione attuale" in numero
    assert (counts.written, counts.removed) == (len(expected), 0)
    assert counts.unchanged == counts.files - len(expected)
    assert not rewritten(outdir) - {f"site/{name}" for name in expected}  # nginx.conf kept


def test_an_item_gone_takes_its_files_with_it(
    settings: Settings, seed_copy: Path, seed_export: Path
) -> None:
    outdir = seed_export
    item_files = sorted((outdir / "site" / "bollettino").glob("horizon-europe.html*"))
    assert [p.name for p in item_files] == [
        "horizon-europe.html",
        "horizon-europe.html.br",
        "horizon-europe.html.gz",
    ]
    before = set(files_of(outdir / "site"))
    (seed_copy / "04-horizon-europe.md").unlink()
    numeri_toml = seed_copy / "numeri.toml"  # numero 1 lists it
    numeri_toml.write_text(numeri_toml.read_text().replace('    "horizon-europe",\n', ""))
    import_seed(settings, seed_copy)
    report = export(settings, outdir)
    gone = before - set(files_of(outdir / "site"))
    assert report.files.removed == len(gone)
    assert "/bollettino/horizon-europe" not in report.pages
    # Its page goes, and so do the lists of the tags no other item has.
    others = gone - {f"bollettino/{path.name}" for path in item_files}
    assert len(others) == len(gone) - len(item_files)
    assert others and all(re.search(r"tag=(ricerca|innovazione|europa)\b", n) for n in others)


# --- nginx in front ------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    nginx: int  # nginx's port
    app: int  # the app's port, behind nginx
    site: Path  # the files nginx serves


@pytest.fixture
def nginx_and_app(
    export_settings: Settings, exported: tuple[Path, list[str]], tmp_path: Path
) -> Iterator[Served]:
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
            yield Served(nginx.port, app.port, outdir / "site")


@pytest.mark.slow
def test_nginx_serves_the_exported_files_byte_for_byte(nginx_and_app: Served) -> None:
    port, site = nginx_and_app.nginx, nginx_and_app.site
    for target, name in (
        ("/", "index.html"),
        ("/bollettino?tipo=bando", "bollettino@tipo=bando.html"),
    ):
        for coding, suffix in (("br", ".br"), ("gzip", ".gz"), ("", "")):
            raw = raw_get(port, target, {"Accept-Encoding": coding} if coding else {})
            assert raw.status == 200
            assert raw.body == (site / (name + suffix)).read_bytes(), (target, coding)
            assert raw.header("content-type") == "text/html; charset=utf-8"
            assert raw.header("cache-control") == PAGE_CACHE_CONTROL
    feed = raw_get(port, "/feed.xml", {"Accept-Encoding": "br"})
    assert feed.header("content-encoding") == "br"
    assert feed.header("content-type") == "application/atom+xml; charset=utf-8"
    css = next((site / "static").glob("style.*.css")).name
    asset = raw_get(port, f"/static/{css}", {"Accept-Encoding": "gzip"})
    assert asset.header("cache-control") == IMMUTABLE
    assert asset.header("content-encoding") == "gzip"


@pytest.mark.slow
@pytest.mark.slow
def test_nginx_sends_the_pages_left_to_the_app_to_the_app(nginx_and_app: Served) -> None:
    site = nginx_and_app.site
    for target in ("/bollettino?page=2", "/bollettino?tag=generato&page=2", "/impronta"):
        assert not list(site.glob(f"{file_name(target, 'text/html')}*")), target
        proxied = raw_get(nginx_and_app.nginx, target, {"Accept-Encoding": "br"})
        direct = raw_get(nginx_and_app.app, target, {"Accept-Encoding": "br"})
        assert proxied.status == direct.status == 200, target
        assert proxied.body == direct.body, target
        assert proxied.header("content-encoding") == "br"


@pytest.mark.slow
def test_every_link_of_an_exported_page_is_answered_by_a_file_or_the_app(
    nginx_and_app: Served, export_settings: Settings
) -> None:
    site = nginx_and_app.site
    targets = {
        target
        for page in site.rglob("*.html")
        for target in links(page.read_bytes(), export_settings.base_url)
    }
    assert "/bollettino?page=2" in targets and "/impronta" in targets
    unanswered = {}
    for target in sorted(targets):
        status = raw_get(nginx_and_app.nginx, target).status
        if status != 200:
            unanswered[target] = status
    assert unanswered == {}


@pytest.mark.slow
def test_nginx_sends_writes_cookies_and_unexported_pages_to_the_app(
    nginx_and_app: Served,
) -> None:
    port = nginx_and_app.nginx
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
