"""Server-side energy proxies from BUDGET.md, in-process (no network stack):

* CPU per cached view (target <= 150 µs), measured with time.process_time over many views;
* uncached render per route, p50 (target <= 3 ms), with 2,000 bulletin items;
* page N of a list vs page 1 (target <= 2x);
* what the pieces cost: the content-version read, compression levels, middleware styles.

Run with ``make bench``. Numbers depend on the machine and its load; ratios taken in one
run are the robust part.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import pytest
from measure import median
from pytest_benchmark.fixture import BenchmarkFixture
from serving_bench import Runner, record
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

import board_data
from greenweb.asgi_client import make_scope
from greenweb.changes import ChangeLog
from greenweb.web.http import compression

CPU_ITERATIONS = 20_000
RENDER_ROUNDS = 40

QUESTION = f"/domande/{board_data.SAMPLE_QUESTION}"  # answered, resources, a theatre piece
CACHED = ["/", "/bollettino", "/bollettino/voce-01000", "/feed.xml", "/domande", "/risorse"]
BOARD_LISTS = [
    "/domande",
    "/domande?ordine=condivise",
    "/domande?ordine=con-risposta",
    "/domande?tema=clima",
    "/pillole",
    "/moderazione/registro",
]
ROUTES = [
    "/",
    "/bollettino",
    "/bollettino?tipo=bando",
    "/bollettino?tag=clima",
    "/bollettino/voce-01000",
    "/scadenze",
    "/eventi",
    "/cerca?q=territorio",
    "/feed.xml",
    "/sitemap.xml",
    "/calendario.ics",
    "/robots.txt",
    *BOARD_LISTS,
    QUESTION,
    f"{QUESTION}/feed.xml",
    "/domande/nuova",
    "/risorse",
    "/domande/risposte.xml",
    "/domande/temi/clima/feed.xml",
    "/domande/dati",
    "/domande/regole",
]
LISTS = [
    "/bollettino",
    "/bollettino?tipo=bando",
    "/bollettino?tag=clima",
    # The search's groups are one page; each kind's hits are paginated.
    "/cerca?q=territorio&in=bollettino",
    "/cerca?q=ispra&in=domande",
    *BOARD_LISTS,
]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


@pytest.mark.parametrize("target", CACHED)
def test_cached_view(cached: Runner, benchmark: BenchmarkFixture, target: str) -> None:
    assert cached.get(target).status == 200
    cpu = cached.cpu_us(target, CPU_ITERATIONS)
    benchmark.extra_info["cpu_us_per_view"] = round(cpu, 2)
    record(f"CPU per cached view {target}", f"{cpu:.1f} µs", "<= 150 µs", cpu <= 150)
    benchmark(cached.get, target)


@pytest.mark.parametrize("target", ROUTES)
def test_uncached_render(uncached: Runner, benchmark: BenchmarkFixture, target: str) -> None:
    page = uncached.get(target)
    assert page.status == 200
    times = uncached.wall_times(target, RENDER_ROUNDS)
    p50 = median(times)
    benchmark.extra_info.update(p50_ms=round(p50 * 1e3, 3), **uncached.weight(target))
    record(f"uncached render p50 {target}", _ms(p50), "<= 3 ms", p50 <= 0.003)
    benchmark.pedantic(uncached.get, args=(target,), rounds=10, warmup_rounds=1)


def _last_page(runner: Runner, target: str) -> int:
    html = runner.get(target, [(b"accept-encoding", b"identity")]).body.decode()
    found = re.search(r"Pagina 1 di (\d+)", html)
    return int(found.group(1)) if found else 1


@pytest.mark.parametrize("target", LISTS)
def test_page_n_vs_page_1(uncached: Runner, benchmark: BenchmarkFixture, target: str) -> None:
    last = _last_page(uncached, target)
    assert last > 1, f"{target} has one page only: nothing to compare"
    deep = f"{target}{'&' if '?' in target else '?'}page={last}"
    assert uncached.get(deep).status == 200
    first = median(uncached.wall_times(target, RENDER_ROUNDS))
    nth = median(uncached.wall_times(deep, RENDER_ROUNDS))
    ratio = nth / first
    benchmark.extra_info.update(page=last, ratio=round(ratio, 2), **uncached.weight(deep))
    record(
        f"page {last} vs page 1 {target}",
        f"{_ms(nth)} / {_ms(first)} = {ratio:.2f}x",
        "<= 2x",
        ratio <= 2,
    )
    benchmark.pedantic(uncached.get, args=(deep,), rounds=10, warmup_rounds=1)


def test_content_version_read(cached: Runner, benchmark: BenchmarkFixture) -> None:
    reader = ChangeLog(cached.settings.db_path)
    reader.read()
    start = time.process_time()
    for _ in range(CPU_ITERATIONS):
        reader.read()
    cpu = (time.process_time() - start) / CPU_ITERATIONS * 1e6
    record("content version read (sqlite3, per view)", f"{cpu:.2f} µs", "part of the 150 µs", None)
    benchmark(reader.read)
    reader.close()


@pytest.mark.parametrize(
    ("label", "encode"),
    [
        ("brotli 11 (kept pages)", lambda body: compression.encode_body(body, "br", stored=True)),
        ("brotli 5 (on the fly)", lambda body: compression.encode_body(body, "br", stored=False)),
        ("gzip 9", lambda body: compression.encode_body(body, "gzip")),
    ],
)
def test_compression_cost(
    uncached: Runner, benchmark: BenchmarkFixture, label: str, encode: Callable[[bytes], bytes]
) -> None:
    page = uncached.get("/bollettino", [(b"accept-encoding", b"identity")]).body
    encoded = benchmark(encode, page)
    record(f"{label}, /bollettino {len(page)} B", f"{len(encoded)} B", "smaller is better", None)


# --- pure ASGI against BaseHTTPMiddleware -----------------------------------------------------


class PureNoop:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class BaseNoop(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        return await call_next(request)


async def _fixed(request: Request) -> Response:
    return Response(b"x" * 1400, media_type="text/html")


def _cpu_per_request(app: Starlette, iterations: int = 5_000) -> float:
    scope = make_scope("GET", "/")

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        return None

    async def run() -> float:
        await app(dict(scope), receive, send)  # type: ignore[arg-type]
        start = time.process_time()
        for _ in range(iterations):
            await app(dict(scope), receive, send)  # type: ignore[arg-type]
        return (time.process_time() - start) / iterations * 1e6

    return asyncio.run(run())


def test_middleware_styles(benchmark: BenchmarkFixture) -> None:
    """Three no-op middlewares, pure ASGI vs BaseHTTPMiddleware, on a fixed response."""
    routes = [Route("/", _fixed)]
    bare = _cpu_per_request(Starlette(routes=routes))
    pure = _cpu_per_request(Starlette(routes=routes, middleware=[Middleware(PureNoop)] * 3))
    based = _cpu_per_request(Starlette(routes=routes, middleware=[Middleware(BaseNoop)] * 3))
    record("3 pure ASGI middlewares, added CPU/request", f"{pure - bare:.1f} µs", "", None)
    record("3 BaseHTTPMiddleware, added CPU/request", f"{based - bare:.1f} µs", "", None)
    benchmark.extra_info.update(bare_us=bare, pure_us=pure, base_us=based)
    benchmark(lambda: None)
