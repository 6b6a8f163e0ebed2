"""Load benchmark: greenweb against the framework's ceiling and nginx, in one run.

    .venv/bin/python benchmarks/serving/load.py            # or: make load

Builds a database with 2,000 bulletin items, then starts on 127.0.0.1 (free ports, one
process each):

* ``greenweb``          greenweb serve, page cache on (the home page is a cache hit);
* ``greenweb-uncached`` greenweb serve with GREENWEB_PAGE_CACHE_BYTES=0 (renders each time);
* ``ceiling``           serving/ceiling_app.py: bare Starlette returning the very bytes and
                        headers of greenweb's cached home page, same uvicorn settings;
* ``nginx``             nginx serving ``greenweb export`` of the same database.

Each is driven with ``wrk -t1 -c32 -d5s --latency -H 'Accept-Encoding: br'`` on the home
page, ``--repeat`` times, interleaved so background load hits all alike; the best run of
each counts. Reported: requests/s, p50/p99 latency, server CPU per request (from
/proc/PID/stat), and the ratio to the ceiling. Needs ``wrk`` and ``nginx`` on PATH (the
Makefile's ``load`` target installs them with apt when missing); installs nothing itself.
Every server is started and stopped by tests/support/servers.py's LiveServer (free port,
bounded start, its own process group); every wrk run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This folder for bigdata and ceiling_app; tests/ for the servers every test uses too.
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "tests")]

import bigdata  # noqa: E402

from greenweb.static_site.nginx import nginx_conf  # noqa: E402
from support.raw_http import RawResponse, http_request, raw_http  # noqa: E402
from support.servers import LiveServer, find_nginx  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 60.0  # 2,000 items: the first start builds the search index


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us_per_request: float | None


def http_get(port: int, path: str = "/", coding: str = "br") -> RawResponse:
    request = http_request(f"GET {path}".encode(), f"Accept-Encoding: {coding}".encode())
    return raw_http(port, request)


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` and of its direct children (nginx workers)."""
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


def drive(name: str, server: LiveServer, args: argparse.Namespace) -> Result:
    http_get(server.port)  # warm: the first view fills the cache
    before = cpu_ticks(server.pid)
    output = subprocess.run(
        [
            args.wrk,
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{args.duration}s",
            "--latency",
            "--timeout",
            "5s",
            "-H",
            "Accept-Encoding: br",
            server.url("/"),
        ],
        capture_output=True,
        text=True,
        timeout=args.duration + 60,
        check=True,
    ).stdout
    used = (cpu_ticks(server.pid) - before) / CLOCK_TICKS
    rps, p50, p99, requests, errors = parse_wrk(output)
    cpu = used / requests * 1e6 if requests else None
    return Result(name, rps, p50, p99, requests, errors, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved runs per server")
    parser.add_argument("--items", type=int, default=bigdata.BULLETIN_ITEMS)
    # The runs load the home page, whose cost does not depend on the board's size; the
    # export nginx serves crawls every list page, and with 10,000 questions (thousands of
    # sorted and filtered pages, each brotli 11) it ran for over 3 minutes unfinished.
    parser.add_argument(
        "--questions", type=int, default=0, help="board questions (default 0: see the code)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    args.wrk = shutil.which("wrk")
    if args.wrk is None or find_nginx() is None:
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
    db = work / "greenweb.db"
    started = time.perf_counter()
    bigdata.build(db, items=args.items, questions=args.questions)
    print(
        f"database: {args.items} bulletin items, {args.questions} questions "
        f"in {time.perf_counter() - started:.1f}s"
    )
    quiet = ["--log-level", "warning"]
    secret = {"GREENWEB_SECRET": "load-benchmark"}
    servers: dict[str, LiveServer] = {}
    with ExitStack() as stack:

        def start(name: str, server: LiveServer) -> None:
            servers[name] = stack.enter_context(server.start(START_TIMEOUT))

        start("greenweb", LiveServer.greenweb(work / "cached", db, args=quiet, **secret))
        start(
            "greenweb-uncached",
            LiveServer.greenweb(
                work / "uncached", db, args=quiet, GREENWEB_PAGE_CACHE_BYTES="0", **secret
            ),
        )
        home = http_get(servers["greenweb"].port)
        headers, body = dict(home.headers), home.body
        assert home.status == 200 and headers.get("content-encoding") == "br", headers
        # The page's own headers only: the server adds date and content-length, and the
        # "connection: close" our one-off request asked for would make every wrk request
        # open a new connection.
        for hop in ("connection", "date", "content-length", "keep-alive", "transfer-encoding"):
            headers.pop(hop, None)
        saved = work / "home.json"
        saved.write_text(json.dumps({"headers": headers, "body": base64.b64encode(body).decode()}))
        start(
            "ceiling",
            LiveServer.uvicorn(
                work / "ceiling",
                "ceiling_app:app",
                app_dir=HERE,
                args=["--no-server-header", "--no-access-log", *quiet],
                CEILING_RESPONSE=str(saved),
            ),
        )
        exported = subprocess.run(
            [sys.executable, "-m", "greenweb", "export", str(work / "export")],
            env={**os.environ, "GREENWEB_DB": str(db), **secret},
            capture_output=True,
            text=True,
            check=True,
        )
        print(exported.stdout.strip().splitlines()[-1])

        def nginx_config(port: int) -> str:
            return nginx_conf(
                (work / "export" / "site").resolve(),
                listen=f"127.0.0.1:{port}",
                upstream=servers["greenweb"].address,
                user="root" if os.geteuid() == 0 else None,
                pid=work / "nginx" / "nginx.pid",
                error_log=str(work / "nginx" / "nginx-error.log"),
                worker_processes="1",
            )

        start("nginx", LiveServer.nginx(work / "nginx", nginx_config))
        for name in ("greenweb", "ceiling", "nginx"):
            answer = http_get(servers[name].port)
            assert answer.body == body or name == "nginx", f"{name} serves other bytes"
            print(f"{name:18} home: {len(answer.body)} bytes, {answer.header('content-encoding')}")

        best: dict[str, Result] = {}
        order = ["ceiling", "greenweb", "greenweb-uncached", "nginx"]
        for round_ in range(args.repeat):
            for name in order if round_ % 2 == 0 else list(reversed(order)):
                result = drive(name, servers[name], args)
                print(
                    f"  run {round_ + 1} {name:18} {result.requests_per_s:9.0f} req/s "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
                )
                if name not in best or result.requests_per_s > best[name].requests_per_s:
                    best[name] = result

    report(best, args)
    return 0


def report(best: dict[str, Result], args: argparse.Namespace) -> None:
    ceiling = best["ceiling"].requests_per_s
    print()
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"-H 'Accept-Encoding: br' http://127.0.0.1:PORT/   (best of {args.repeat})"
    )
    print()
    print("| server | req/s | p50 ms | p99 ms | server CPU µs/req | × ceiling | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in ("ceiling", "greenweb", "greenweb-uncached", "nginx"):
        r = best[name]
        cpu = f"{r.cpu_us_per_request:.0f}" if r.cpu_us_per_request is not None else "?"
        print(
            f"| {name} | {r.requests_per_s:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {cpu} | "
            f"{r.requests_per_s / ceiling:.2f} | {r.errors} |"
        )
    ratio = best["greenweb"].requests_per_s / ceiling
    verdict = "met" if ratio >= 0.8 else "MISSED"
    print(f"\ncached greenweb / ceiling = {ratio:.2f} (target >= 0.8: {verdict})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({k: asdict(v) for k, v in best.items()}, indent=2))


if __name__ == "__main__":
    raise SystemExit(main())
