"""The measurements behind serving's choices, on the seed bulletin's real pages.

    .venv/bin/python benchmarks/serving/choices.py

Prints: the cost of each way to read the content version, sizes and times of brotli and
gzip levels, the compression threshold, HTML minification after brotli, the footer
stamp's accuracy, and what the first view of a kept page costs after a write (with the
board's lists of 3,000 questions too). benchmarks/README.md records a run of it.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path

import brotli

from greenweb.asgi_client import request, running
from greenweb.bulletin.importer import import_directory
from greenweb.config import Settings
from greenweb.db import Database
from greenweb.footprint.carbon import CarbonModel
from greenweb.web.app import create_app
from greenweb.web.http import compression, stamp
from greenweb.web.site import site_of

SEED = Path(__file__).resolve().parents[2] / "data" / "bulletin"
PAGES = ["/", "/bollettino", "/scadenze", "/eventi", "/cerca?q=bando", "/feed.xml"]
BOARD_PAGES = [
    "/domande",
    "/domande?ordine=condivise",
    "/domande?ordine=con-risposta",
    "/risorse",
    "/moderazione/registro",
]
BOARD_QUESTIONS = 3_000
# board_data.py sits one folder up, shared with footprint's suite.
sys.path.append(str(Path(__file__).resolve().parents[1]))


def per_call(fn: Callable[[], object], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n


async def render_pages(folder: Path) -> dict[str, bytes]:
    import board_data

    db = Database(folder / "greenweb.db")
    await db.open()
    await import_directory(db, SEED)
    await board_data.add_questions(db, BOARD_QUESTIONS, quiet=True)
    await db.close()
    settings = Settings(db_path=folder / "greenweb.db", secret="x", page_cache_bytes=0)
    app = create_app(settings, today=lambda: date(2021, 9, 4))
    pages = {}
    identity = [(b"accept-encoding", b"identity")]
    async with running(app):
        for target in PAGES:
            pages[target] = (await request(app, target, headers=identity)).body
        home = pages["/"].decode()
        item = re.search(r'href="(/bollettino/[^"]+)"', home)
        assert item is not None
        pages[item.group(1)] = (await request(app, item.group(1), headers=identity)).body
        css = site_of(app).assets.url("style.css")
        pages["style.css"] = (await request(app, css, headers=identity)).body
        for target in BOARD_PAGES:
            pages[target] = (await request(app, target, headers=identity)).body
    return pages


def version_reads(folder: Path) -> None:
    print("## Reading the content version (µs per call)")
    path = folder / "greenweb.db"
    conn = sqlite3.connect(path, isolation_level=None)
    n = 100_000
    options: dict[str, Callable[[], object]] = {
        "SELECT version": lambda: conn.execute("SELECT version FROM content_version").fetchone(),
        "PRAGMA data_version": lambda: conn.execute("PRAGMA data_version").fetchone(),
        "os.stat of the WAL file": lambda: os.stat(str(path) + "-wal"),
        "time.monotonic": time.monotonic,
    }
    for label, fn in options.items():
        print(f"  {label:24} {per_call(fn, n) * 1e6:.2f}")
    conn.close()


def levels(pages: dict[str, bytes]) -> None:
    print("\n## Compression: bytes / ms per page")
    qualities = (1, 4, 5, 9, 11)
    print("  page raw " + " ".join(f"br{q}" for q in qualities) + " gz6 gz9")
    for name, body in pages.items():
        cells = []
        encoders: list[tuple[Callable[[bytes], bytes], int]] = [
            (lambda b, q=q: bytes(brotli.compress(b, quality=q, mode=brotli.MODE_TEXT)), q)
            for q in qualities
        ]
        encoders += [
            (lambda b, lv=lv: gzip.compress(b, compresslevel=lv, mtime=0), 0) for lv in (6, 9)
        ]
        for encode, quality in encoders:
            out = encode(body)
            ms = per_call(lambda encode=encode, body=body: encode(body), 5 if quality >= 9 else 50)
            cells.append(f"{len(out)}/{ms * 1e3:.2f}")
        print(f"  {name} {len(body)} " + " ".join(cells))


def threshold(pages: dict[str, bytes]) -> None:
    print("\n## Threshold: bytes saved net of the Content-Encoding line")
    samples = {
        "robots.txt": b"User-agent: *\nDisallow: /moderazione\n\nSitemap: http://127.0.0.1:8000/sitemap.xml\n"
    }
    for size in (128, 192, 256, 512):
        samples[f"page[:{size}]"] = pages["/"][:size]
        samples[f"css[:{size}]"] = pages["style.css"][:size]
    for name, body in samples.items():
        br = len(brotli.compress(body, quality=11, mode=brotli.MODE_TEXT))
        gz = len(gzip.compress(body, 9, mtime=0))
        br_net, gz_net = len(body) - br - 22, len(body) - gz - 24
        print(f"  {name:12} {len(body):4}  br {br:4} net {br_net:+4}  gzip {gz:4} net {gz_net:+4}")


_PRE = re.compile(rb"(<(pre|textarea)\b.*?</\2>)", re.S | re.I)


def _outside_pre(body: bytes, fn: Callable[[bytes], bytes]) -> bytes:
    parts = _PRE.split(body)
    out, i = [], 0
    while i < len(parts):
        if i % 3 == 0:
            out.append(fn(parts[i]))
            i += 1
        else:
            out.append(parts[i])
            i += 2
    return b"".join(out)


def minification(pages: dict[str, bytes]) -> None:
    print("\n## Minification of HTML, bytes after brotli 11 / gzip 9")
    html = {k: v for k, v in pages.items() if v.lstrip().startswith(b"<!doctype html>")}
    variants = {
        "as rendered": lambda b: b,
        "whitespace between tags removed (unsafe)": lambda b: _outside_pre(
            b, lambda t: re.sub(rb">\s+<", b"><", t)
        ),
        "whitespace runs collapsed (safe)": lambda b: _outside_pre(
            b, lambda t: re.sub(rb"\s*\n\s*", b"\n", t)
        ),
    }
    for label, fn in variants.items():
        raw = br = gz = 0
        for body in html.values():
            done = fn(body)
            raw += len(done)
            br += len(brotli.compress(done, quality=11, mode=brotli.MODE_TEXT))
            gz += len(gzip.compress(done, 9, mtime=0))
        print(f"  {label:42} raw {raw:6}  br {br:5}  gzip {gz:5}   ({len(html)} pages)")


def marked(pages: dict[str, bytes]) -> dict[str, bytes]:
    """The HTML pages with their footer figure turned back into the marker."""
    found = {k: re.sub(rb"Questa pagina: .*?CO2e *", stamp.MARKER, v) for k, v in pages.items()}
    return {k: v for k, v in found.items() if stamp.MARKER in v}


def stamping(pages: dict[str, bytes]) -> None:
    print("\n## Footer stamp: stated minus actual bytes, and encodings per page")
    html = marked(pages)
    model = CarbonModel()
    for exact in (True, False):
        for coding in ("br", "gzip"):
            errors: Counter[int] = Counter()
            rounds: Counter[int] = Counter()
            ratio = 1.0
            for body in html.values():
                for head in range(250, 262):
                    count = [0]

                    def encode(
                        b: bytes, count: list[int] = count, coding: str = coding, kept: bool = exact
                    ) -> bytes:
                        count[0] += 1
                        return compression.encode_body(b, coding, stored=kept)  # type: ignore[arg-type]

                    out, stated = stamp.stamp(
                        body,
                        encode,
                        stamp.head_with_length(head),
                        model,
                        exact=exact,
                        guess=int(len(body) * ratio),
                    )
                    ratio = len(out) / len(body)
                    errors[stated - (len(out) + head + len(str(len(out))))] += 1
                    rounds[count[0]] += 1
            kind = "kept" if exact else "one visitor"
            off, runs = dict(sorted(errors.items())), dict(sorted(rounds.items()))
            print(f"  {kind:11} {coding:4} off by {off}  encodings {runs}")
    for stored in (True, False):
        for coding in ("br", "gzip"):
            errors = Counter()
            for body in html.values():
                for head in range(250, 262):
                    one = stamp.stamp_in_one_pass(
                        body,
                        coding,  # type: ignore[arg-type]
                        stamp.head_with_length(head),
                        model,
                        stored=stored,
                    )
                    assert one is not None
                    out, stated = one
                    errors[stated - (len(out) + head + len(str(len(out))))] += 1
            kind = "kept" if stored else "one visitor"
            print(f"  one pass, {kind:11} {coding:4} off by {dict(sorted(errors.items()))}")


def after_a_write(pages: dict[str, bytes]) -> None:
    """A kept page's first view after a write: stamped and compressed for br, four ways."""
    print("\n## The first view of a kept page after a write: br bytes / ms of CPU (best of 3)")
    model = CarbonModel()

    head = stamp.head_with_length(600)

    def rounds(body: bytes, stored: bool) -> bytes:
        def encode(b: bytes) -> bytes:
            return compression.encode_body(b, "br", stored=stored)

        return stamp.stamp(body, encode, head, model, exact=True)[0]

    def one_pass(body: bytes, stored: bool) -> bytes:
        stamped = stamp.stamp_in_one_pass(body, "br", head, model, stored=stored)
        assert stamped is not None
        return stamped[0]

    ways: dict[str, Callable[[bytes], bytes]] = {
        "rounds, brotli 11": lambda b: rounds(b, True),
        "rounds, brotli 5": lambda b: rounds(b, False),
        "one pass, brotli 11": lambda b: one_pass(b, True),
        "one pass, brotli 5": lambda b: one_pass(b, False),
    }
    print("  | page | raw | " + " | ".join(ways) + " |")
    for target, body in marked(pages).items():
        cells = []
        for way in ways.values():
            best = min(per_call(lambda way=way, body=body: way(body), 1) for _ in range(3))
            cells.append(f"{len(way(body)):,} / {best * 1e3:.2f}")
        print(f"  | {target} | {len(body):,} | " + " | ".join(cells) + " |")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="greenweb-choices-") as folder:
        pages = asyncio.run(render_pages(Path(folder)))
        version_reads(Path(folder))
    seed = {k: v for k, v in pages.items() if k not in BOARD_PAGES}
    levels(seed)
    threshold(seed)
    minification(seed)
    stamping(seed)
    after_a_write(pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
