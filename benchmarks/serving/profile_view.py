"""Where the time of an uncached view goes: cProfile over many renders, grouped.

    .venv/bin/python benchmarks/serving/profile_view.py /eventi [/scadenze ...] [--rounds 50]

Uses the benchmarks' big database (2,000 bulletin items; built in a temporary folder) and
the page cache off. Prints, per route, the share of time by area: SQL (the aiosqlite
thread, seen from the event loop as waiting in epoll), row decoding in the domain,
template rendering, compression and stamping, Starlette, and the rest; then the top
functions by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bigdata  # noqa: E402
from measure import wall_times_async  # noqa: E402

from greenweb.asgi_client import running  # noqa: E402
from greenweb.config import Settings  # noqa: E402
from greenweb.web.app import create_app  # noqa: E402

AREAS = (
    ("SQL (waiting for the aiosqlite thread)", ("select.epoll", "_queue.SimpleQueue", "aiosqlite")),
    (
        "compression + footer stamp",
        ("brotli", "zlib", "gzip", "web/http/stamp.py", "web/http/compression.py"),
    ),
    ("templates (Jinja2, markupsafe)", ("jinja2", "markupsafe", "templates/", "templating.py")),
    (
        "row decoding (bulletin/, board/, json)",
        ("greenweb/bulletin/", "greenweb/board/", "json/", "italian.py"),
    ),
    ("URL building (Starlette routing)", ("starlette/routing.py",)),
    ("greenweb middleware", ("greenweb/web/middleware/", "greenweb/web/http/")),
    ("Starlette, asyncio, the rest", ("",)),
)


def area_of(filename: str, function: str) -> str:
    where = f"{filename}:{function}"
    for name, markers in AREAS:
        if any(marker in where for marker in markers):
            return name
    return AREAS[-1][0]


async def profile(app_settings: Settings, target: str, rounds: int) -> None:
    app = create_app(app_settings, today=lambda: date(2021, 6, 1))
    headers = [(b"accept-encoding", b"gzip, deflate, br")]
    async with running(app):
        await wall_times_async(app, target, headers, 3)
        profiler = cProfile.Profile()
        profiler.enable()
        times = await wall_times_async(app, target, headers, rounds)
        profiler.disable()
    stats = pstats.Stats(profiler)
    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _, function), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_area[area_of(filename, function)] += own
        total += own
    times.sort()
    print(
        f"\n{target}: p50 {times[len(times) // 2] * 1e3:.2f} ms under the profiler, {rounds} views"
    )
    for name, _ in AREAS:
        share = by_area.get(name, 0.0)
        print(f"  {share / total * 100:5.1f} %  {share / rounds * 1e3:6.2f} ms/view  {name}")
    stats.sort_stats("tottime").print_stats(8)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("routes", nargs="+")
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="greenweb-profile-") as folder:
        db = bigdata.build(Path(folder) / "greenweb.db")
        settings = Settings(
            db_path=db, secret="profile", base_url="http://bench", page_cache_bytes=0
        )
        for route in args.routes:
            asyncio.run(profile(settings, route, args.rounds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
