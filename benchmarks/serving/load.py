"""Load benchmark: real servers on 127.0.0.1 under wrk, compared in one run.

    .venv/bin/python benchmarks/serving/load.py            # or: make load
    .venv/bin/python benchmarks/serving/load.py --compare servers
    .venv/bin/python benchmarks/serving/load.py --compare access-log

``--compare site`` (the default, ``make load``) builds a database with 2,000 bulletin
items and starts, one process each:

* ``greenweb``          ``greenweb serve`` with its defaults, as ``make run`` starts it:
                        access log on, page cache on (the home page is a cache hit);
* ``greenweb-uncached`` the same with GREENWEB_PAGE_CACHE_BYTES=0 (renders each time);
* ``ceiling``           serving/ceiling_app.py: bare Starlette on uvicorn returning the very
                        bytes and headers of greenweb's cached home page (no access log);
* ``nginx``             nginx serving ``greenweb export`` of the same database.

and prints greenweb / ceiling (target >= 1.0) and greenweb / nginx (target >= 0.6).

``--compare servers``: the seed bulletin's home page, greenweb's app under uvicorn
(``greenweb serve``) and under Granian (serving/granian_serve.py: ASGI interface, uvloop,
the same logging), both with the access log on: Granian / uvicorn.

``--compare access-log``: ``greenweb serve`` against ``greenweb serve --no-access-log`` on
the seed's home page: log on / log off (target >= 0.95).

Each server is driven with ``wrk -t1 -c64 -d5s --latency -H 'Accept-Encoding: br'`` on
the home page (``-d3s`` when two servers are compared), ``--repeat`` rounds (2, or 8 for
two servers), interleaved (the order reversed every other round) so
background load hits all alike. Reported: the best round of each (requests/s, p50/p99
latency, server CPU per request from /proc/PID/stat), and the ratios: of the best rounds,
and the range of the ratios within each round. Needs ``wrk`` and ``nginx`` on PATH (the
Makefile's ``load`` target installs them with apt when missing) and, for ``servers``,
``granian`` (a dev dependency); installs nothing itself. Every server is started and
stopped by tests/support/servers.py's LiveServer (free port, bounded start, its own
process group); every wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder for bigdata and ceiling_app; tests/ for the servers every test uses too.
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "tests")]

import bigdata  # noqa: E402

from greenweb.static_site.nginx import nginx_conf  # noqa: E402
from support import SEED_DIR, import_seed, make_settings  # noqa: E402
from support.raw_http import RawResponse, http_request, raw_http  # noqa: E402
from support.servers import LiveServer, find_nginx  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 60.0  # 2,000 items: the first start builds the search index
SECRET = {"GREENWEB_SECRET": "load-benchmark"}


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us_per_request: float | None


@dataclass(frozen=True)
class Ratio:
    """``numerator`` / ``denominator`` with the figure it must reach (or None)."""

    numerator: str
    denominator: str
    target: float | None = None


@dataclass(frozen=True)
class Comparison:
    """The servers of one ``--compare`` mode, in driving order, and the ratios to print."""

    order: list[str]
    ratios: list[Ratio]
    labels: dict[str, str]


def http_get(port: int, path: str = "/", coding: str = "br") -> RawResponse:
    request = http_request(f"GET {path}".encode(), f"Accept-Encoding: {coding}".encode())
    return raw_http(port, request)


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` and of its direct children (nginx's and Granian's workers)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        if int(entry.name) == pid or ppid == pid:
            total += int(fields[11]) + int(fields[12])
    return total


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not found:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """(requests/s, p50 ms, p99 ms, requests, non-2xx/3xx + socket errors) from wrk --latency."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(found.group(1))
    if found := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in found.groups())
    return rps, p50, p99, requests, errors


def wrk_command(args: argparse.Namespace, url: str) -> list[str]:
    return [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        "Accept-Encoding: br",
        url,
    ]


def drive(name: str, server: LiveServer, args: argparse.Namespace) -> Result:
    http_get(server.port)  # warm: the first view fills the cache
    before = cpu_ticks(server.pid)
    output = subprocess.run(
        wrk_command(args, server.url("/")),
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        check=True,
    ).stdout
    used = (cpu_ticks(server.pid) - before) / CLOCK_TICKS
    rps, p50, p99, requests, errors = parse_wrk(output)
    cpu = used / requests * 1e6 if requests else None
    return Result(name, rps, p50, p99, requests, errors, cpu)


def rounds(
    servers: dict[str, LiveServer], order: list[str], args: argparse.Namespace
) -> list[dict[str, Result]]:
    """``args.repeat`` rounds over ``order``, reversed every other round."""
    done: list[dict[str, Result]] = []
    for round_ in range(args.repeat):
        results: dict[str, Result] = {}
        for name in order if round_ % 2 == 0 else list(reversed(order)):
            result = results[name] = drive(name, servers[name], args)
            print(
                f"  round {round_ + 1} {name:18} {result.requests_per_s:9.0f} req/s "
                f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms",
                flush=True,
            )
        done.append(results)
    return done


# --- the servers ----------------------------------------------------------------------


def greenweb(work: Path, db: Path, *args: str, **settings: str) -> LiveServer:
    """``greenweb serve ARGS`` (defaults: access log on, 1 worker) over ``db``."""
    return LiveServer.greenweb(work, db, args=args, **SECRET, **settings)


def granian(work: Path, db: Path) -> LiveServer:
    script = str(HERE / "granian_serve.py")

    def command(port: int) -> list[str]:
        return [sys.executable, script, "--host", "127.0.0.1", "--port", str(port)]

    return LiveServer(workdir=work, command=command, db_path=db, settings=dict(SECRET))


def ceiling(work: Path, saved: Path) -> LiveServer:
    return LiveServer.uvicorn(
        work,
        "ceiling_app:app",
        app_dir=HERE,
        args=["--no-server-header", "--no-access-log", "--log-level", "warning"],
        CEILING_RESPONSE=str(saved),
    )


def save_response(answer: RawResponse, saved: Path) -> bytes:
    """The page's own headers and body, for ceiling_app.py: the server adds date and
    content-length, and the "connection: close" our one-off request asked for would make
    every wrk request open a new connection."""
    headers, body = dict(answer.headers), answer.body
    assert answer.status == 200 and headers.get("content-encoding") == "br", headers
    for hop in ("connection", "date", "content-length", "keep-alive", "transfer-encoding"):
        headers.pop(hop, None)
    saved.write_text(json.dumps({"headers": headers, "body": base64.b64encode(body).decode()}))
    return body


def seed_database(work: Path) -> Path:
    settings = make_settings(work)
    import_seed(settings, SEED_DIR)
    return settings.db_path


# --- the comparisons --------------------------------------------------------------------

Starter = Callable[[str, LiveServer], LiveServer]


def compare_site(args: argparse.Namespace, work: Path, start: Starter) -> Comparison:
    db = work / "greenweb.db"
    started = time.perf_counter()
    bigdata.build(db, items=args.items, questions=args.questions)
    print(
        f"database: {args.items} bulletin items, {args.questions} questions "
        f"in {time.perf_counter() - started:.1f}s"
    )
    site = start("greenweb", greenweb(work / "cached", db))
    start("greenweb-uncached", greenweb(work / "uncached", db, GREENWEB_PAGE_CACHE_BYTES="0"))
    body = save_response(http_get(site.port), work / "home.json")
    start("ceiling", ceiling(work / "ceiling", work / "home.json"))
    exported = subprocess.run(
        [sys.executable, "-m", "greenweb", "export", str(work / "export")],
        env={**os.environ, "GREENWEB_DB": str(db), **SECRET},
        capture_output=True,
        text=True,
        check=True,
    )
    print(exported.stdout.strip().splitlines()[-1])

    def nginx_config(port: int) -> str:
        return nginx_conf(
            (work / "export" / "site").resolve(),
            listen=f"127.0.0.1:{port}",
            upstream=site.address,
            user="root" if os.geteuid() == 0 else None,
            pid=work / "nginx" / "nginx.pid",
            error_log=str(work / "nginx" / "nginx-error.log"),
            worker_processes="1",
        )

    nginx = start("nginx", LiveServer.nginx(work / "nginx", nginx_config))
    answer = http_get(nginx.port)
    assert answer.status == 200 and answer.header("content-encoding") == "br", answer.headers
    print(f"home page: {len(body)} bytes br (nginx: {len(answer.body)})")
    return Comparison(
        order=["ceiling", "greenweb", "greenweb-uncached", "nginx"],
        ratios=[Ratio("greenweb", "ceiling", 1.0), Ratio("greenweb", "nginx", 0.6)],
        labels={
            "ceiling": "bare Starlette on uvicorn, same bytes and headers",
            "greenweb": "`greenweb serve` defaults (access log on), page cache on",
            "greenweb-uncached": "the same, page cache off (renders the home page)",
            "nginx": "nginx serving `greenweb export` (brotli_static)",
        },
    )


def compare_servers(args: argparse.Namespace, work: Path, start: Starter) -> Comparison:
    db = seed_database(work)
    start("uvicorn", greenweb(work / "uvicorn", db))
    start("granian", granian(work / "granian", db))
    return Comparison(
        order=["uvicorn", "granian"],
        ratios=[Ratio("granian", "uvicorn")],
        labels={
            "uvicorn": "`greenweb serve` (uvicorn, httptools, uvloop), access log on",
            "granian": "the same app under Granian (asgi, uvloop), access log on",
        },
    )


def access_log_in_process(db: Path, iterations: int = 20_000) -> None:
    """CPU per cached home page in this process, access log off and on (written to
    /dev/null in batches every 50 ms, so the writer's formatting falls inside the timing):
    the log's cost without a server's or wrk's noise around it."""
    import logging

    import measure

    from greenweb.web.app import create_app
    from greenweb.web.middleware.access_log import ACCESS_LOGGER, AccessLogHandler

    settings = make_settings(db.parent)
    headers = [(b"accept-encoding", b"br"), (b"host", b"greenweb.test")]
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.propagate = False
    figures: dict[str, list[float]] = {"off": [], "on": []}
    with open(os.devnull, "w") as devnull:
        handler = AccessLogHandler(devnull, interval=0.05)
        for _ in range(5):
            for state in ("off", "on"):
                logger.handlers[:] = [handler] if state == "on" else []
                logger.setLevel(logging.INFO if state == "on" else logging.CRITICAL)
                app = create_app(settings)
                figures[state].append(measure.cpu_per_view(app, "/", headers, iterations))
        handler.close()
    logger.handlers[:] = []
    off, on = (statistics.median(figures[state]) for state in ("off", "on"))
    print(
        f"in process, CPU per cached home page (median of 5 x {iterations:,}): "
        f"log off {off:.1f} µs, log on {on:.1f} µs (+{on - off:.1f} µs, x{on / off:.2f})"
    )


def compare_access_log(args: argparse.Namespace, work: Path, start: Starter) -> Comparison:
    db = seed_database(work)
    access_log_in_process(db)
    start("log-on", greenweb(work / "on", db))
    start("log-off", greenweb(work / "off", db, "--no-access-log"))
    return Comparison(
        order=["log-on", "log-off"],
        ratios=[Ratio("log-on", "log-off", 0.95)],
        labels={
            "log-on": "`greenweb serve` (access log on)",
            "log-off": "`greenweb serve --no-access-log`",
        },
    )


COMPARISONS = {
    "site": compare_site,
    "servers": compare_servers,
    "access-log": compare_access_log,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--compare", choices=sorted(COMPARISONS), default="site")
    parser.add_argument(
        "--duration", type=int, help="seconds per wrk run (default: 5 for site, 3 otherwise)"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    # Two servers side by side: more, shorter rounds, so the median of the ratios within
    # each round settles on a shared machine.
    parser.add_argument(
        "--repeat", type=int, help="interleaved rounds (default: 2 for site, 8 otherwise)"
    )
    parser.add_argument("--items", type=int, default=bigdata.BULLETIN_ITEMS)
    # The runs load the home page, whose cost does not depend on the board's size; the
    # export nginx serves crawls every list page of the board.
    parser.add_argument(
        "--questions", type=int, default=0, help="board questions (default 0: see the code)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    site = args.compare == "site"
    if args.repeat is None:
        args.repeat = 2 if site else 8
    if args.duration is None:
        args.duration = 5 if site else 3
    args.wrk = shutil.which("wrk")
    if args.wrk is None or (site and find_nginx() is None):
        print(
            "load.py needs wrk and nginx: apt-get install -y wrk nginx-light "
            "libnginx-mod-http-brotli-static (or: make load)",
            file=sys.stderr,
        )
        return 2

    work = Path(tempfile.mkdtemp(prefix="greenweb-load-"))
    os.chmod(work, 0o755)  # nginx workers read the export
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    servers: dict[str, LiveServer] = {}
    with ExitStack() as stack:

        def start(name: str, server: LiveServer) -> LiveServer:
            servers[name] = stack.enter_context(server.start(START_TIMEOUT))
            return servers[name]

        comparison = COMPARISONS[args.compare](args, work, start)
        with open("/proc/loadavg") as loadavg:
            print(f"load average before: {loadavg.read().strip()}")
        done = rounds(servers, comparison.order, args)
    report(comparison, done, args)
    return 0


def best_of(done: list[dict[str, Result]]) -> dict[str, Result]:
    best: dict[str, Result] = {}
    for results in done:
        for name, result in results.items():
            if name not in best or result.requests_per_s > best[name].requests_per_s:
                best[name] = result
    return best


def report(comparison: Comparison, done: list[dict[str, Result]], args: argparse.Namespace) -> None:
    best = best_of(done)
    first = best[comparison.ratios[0].denominator].requests_per_s
    print()
    print(
        " ".join(wrk_command(args, "http://127.0.0.1:PORT/")[1:]).replace(
            "Accept-Encoding: br", "'Accept-Encoding: br'"
        )
        + f"   (wrk; best of {args.repeat} interleaved rounds)"
    )
    with open("/proc/loadavg") as loadavg:
        print(f"load average after: {loadavg.read().strip()}")
    print()
    reference = comparison.ratios[0].denominator
    print(f"| server | req/s | p50 ms | p99 ms | server CPU µs/req | x {reference} | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in comparison.order:
        r = best[name]
        cpu = f"{r.cpu_us_per_request:.0f}" if r.cpu_us_per_request is not None else "?"
        print(
            f"| {name}: {comparison.labels[name]} | {r.requests_per_s:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {cpu} | {r.requests_per_s / first:.2f} | {r.errors} |"
        )
    print()
    for ratio in comparison.ratios:
        value = best[ratio.numerator].requests_per_s / best[ratio.denominator].requests_per_s
        each = [
            results[ratio.numerator].requests_per_s / results[ratio.denominator].requests_per_s
            for results in done
        ]
        line = (
            f"{ratio.numerator} / {ratio.denominator} = {value:.2f} (best rounds; "
            f"each round {min(each):.2f}-{max(each):.2f}, median {statistics.median(each):.2f})"
        )
        if ratio.target is not None:
            verdict = "met" if value >= ratio.target else "MISSED"
            line += f": target >= {ratio.target}: {verdict}"
        print(line)
        cpu = [
            results[ratio.numerator].cpu_us_per_request / denominator_cpu
            for results in done
            if (denominator_cpu := results[ratio.denominator].cpu_us_per_request)
            and results[ratio.numerator].cpu_us_per_request is not None
        ]
        if cpu:
            print(
                f"  server CPU per request, {ratio.numerator} / {ratio.denominator}: median "
                f"{statistics.median(cpu):.2f} (each round {min(cpu):.2f}-{max(cpu):.2f})"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {
                    "compare": args.compare,
                    "best": {k: asdict(v) for k, v in best.items()},
                    "rounds": [{k: asdict(v) for k, v in r.items()} for r in done],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    raise SystemExit(main())
