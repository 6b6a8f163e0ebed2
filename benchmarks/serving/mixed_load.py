"""Mixed load: read throughput while people vote, against the same reads alone.

    .venv/bin/python benchmarks/serving/mixed_load.py      # or: make load-mixed

Builds a database with the seed bulletin and the benchmark board (``board_data.py``,
3,000 questions by default), starts ``greenweb serve`` as ``make run`` does (its
defaults: access log on, one worker) on 127.0.0.1, then for ``/bollettino`` and
``/domande`` in turn measures ``wrk`` alone and while "anch'io" votes arrive at
``--votes-per-second`` (10) from distinct loopback addresses, ``--repeat`` rounds
interleaved, each page's two runs back to back. It prints the median over the rounds of
the ratio voting / alone against the targets of BUDGET.md (bulletin pages keep >= 0.9 of
their read-only throughput, ``/domande`` >= 0.5), the best round's req/s and the server's
CPU per read request (votes included while voting). On a shared machine the throughput
drifts by a fifth within minutes: the pairs of runs 10 s apart share the drift.

Each vote is what a visitor does: its own source address (127.1.x.y, the client socket
bound to it), the question's page for the form token, the wait a person takes (the
token's minimum age), the POST, and the page the 303 leads to. Votes are bounded in
count (rate x duration) and time (``--duration`` plus the token's age); every wrk run by
``--duration``. Importable: :func:`build_database`, :func:`measure` and :func:`report`
serve ``load.py`` as well.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# benchmarks/ for board_data, tests/ for the live server every test uses too.
sys.path[:0] = [str(HERE.parent), str(REPO / "tests")]

from load import CLOCK_TICKS, cpu_ticks, parse_wrk  # noqa: E402

import board_data  # noqa: E402
from greenweb.bulletin.importer import import_directory  # noqa: E402
from greenweb.config import Settings  # noqa: E402
from greenweb.db import Database, fetch_all  # noqa: E402
from greenweb.web.http.compression import decode_body  # noqa: E402
from support.servers import LiveServer  # noqa: E402

PAGES = ("/bollettino", "/domande")
TARGETS = {"/bollettino": 0.9, "/domande": 0.5}
START_TIMEOUT = 60.0
VOTE_TIMEOUT = 10.0
TOKEN_MIN_AGE = next(f.default for f in fields(Settings) if f.name == "token_min_age")
# The "anch'io" form's token on a question's page (templates/board/question.html).
_TOKEN = re.compile(r'/anchio"[^>]*>\s*<input type="hidden" name="token" value="([^"]+)"')


# --- the data ------------------------------------------------------------------------------


def build_database(db: Path, questions: int) -> list[int]:
    """The seed bulletin and ``questions`` board questions at ``db``; the published ids."""

    async def build() -> list[int]:
        database = Database(db)
        await database.open()
        try:
            await import_directory(database, REPO / "data" / "bulletin")
            await board_data.add_questions(database, questions, quiet=True)
            rows = await fetch_all(
                database.reader, "SELECT id FROM questions WHERE state = 'pubblicata'"
            )
            return [row["id"] for row in rows]
        finally:
            await database.close()

    return asyncio.run(build())


# --- voters --------------------------------------------------------------------------------


def voter_address(number: int) -> str:
    """A loopback address of its own for voter ``number`` (127.1.0.1 onwards: never
    127.0.0.1, wrk's)."""
    number += 1
    return f"127.1.{number // 254 % 254}.{number % 254 + 1}"


@dataclass
class Votes:
    """What the voters got: one status per step, latency of each POST."""

    planned: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    post_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, step: str, status: int | str) -> None:
        with self.lock:
            self.statuses[f"{step} {status}"] += 1

    @property
    def counted(self) -> int:
        return self.statuses["vote 303"]


def _exchange(
    address: str, port: int, method: str, path: str, form: str | None = None
) -> tuple[http.client.HTTPResponse, str]:
    """One request from ``address`` on a connection of its own, as a browser sends it."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=VOTE_TIMEOUT, source_address=(address, 0)
    )
    headers = {"Accept-Encoding": "br"}
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=form, headers=headers)
        response = connection.getresponse()
        body = decode_body(response.read(), response.getheader("content-encoding") or "")
    finally:
        connection.close()
    return response, body.decode("utf-8", "replace")


def vote(port: int, number: int, question: int, post_at: float, votes: Votes) -> None:
    """One visitor: the question's page, the wait, "anch'io", the page the 303 leads to."""
    address = voter_address(number)
    try:
        page, html = _exchange(address, port, "GET", f"/domande/{question}")
        votes.note("page", page.status)
        found = _TOKEN.search(html)
        if found is None:
            votes.note("page", "without a token")
            return
        # A person reads first: never sooner than the token's minimum age after the page
        # arrived (a page slow to come makes its vote late, never refused as too quick).
        post_at = max(post_at, time.monotonic() + TOKEN_MIN_AGE + 0.2)
        time.sleep(max(0.0, post_at - time.monotonic()))
        started = time.perf_counter()
        form = urlencode({"token": found.group(1), "sito_web": ""})
        posted, _ = _exchange(address, port, "POST", f"/domande/{question}/anchio", form)
        with votes.lock:
            votes.post_seconds.append(time.perf_counter() - started)
        votes.note("vote", posted.status)
        location = posted.getheader("location")
        if posted.status == 303 and location:
            after, _ = _exchange(address, port, "GET", location.partition("#")[0])
            votes.note("after", after.status)
    except OSError as error:
        votes.note("error", type(error).__name__)


def run_voters(
    port: int, questions: list[int], rate: float, duration: float, first: int, seed: int
) -> tuple[threading.Thread, Votes]:
    """Start the voters of a window of ``duration`` seconds that opens once the first
    ones waited the token's age: in the window, pages are read for the votes to come while
    earlier ones are posted, ``rate`` of each a second, as in steady use. Returns the
    thread to join and the tally."""
    votes = Votes()
    lead = TOKEN_MIN_AGE + 0.5
    count = votes.planned = int(rate * (duration + lead))
    rng = random.Random(seed)
    posts_from = time.monotonic() + lead

    def schedule() -> None:
        # Enough threads for every voter reading their page at once, and slow answers.
        with ThreadPoolExecutor(max_workers=int(rate * (lead + 2)) + 16) as pool:
            for n in range(count):
                post_at = posts_from + n / rate
                time.sleep(max(0.0, post_at - lead - time.monotonic()))
                pool.submit(vote, port, first + n, rng.choice(questions), post_at, votes)

    thread = threading.Thread(target=schedule, name="voters")
    thread.start()
    return thread, votes


# --- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reads:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int
    server_cpu_s: float = 0.0  # of the server's processes during the run, votes included

    @property
    def cpu_us_per_read(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else float("nan")


def wrk(server: LiveServer, page: str, duration: int, connections: int) -> Reads:
    """``wrk`` with brotli on ``page``: requests/s, p50 and p99 in ms, errors, and the
    server's CPU meanwhile."""
    ticks = cpu_ticks(server.pid)
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "--timeout",
            "5s",
            "-H",
            "Accept-Encoding: br",
            server.url(page),
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout

    cpu = (cpu_ticks(server.pid) - ticks) / CLOCK_TICKS
    rate, p50, p99, requests, errors = parse_wrk(out)
    return Reads(rate, p50, p99, errors, requests, cpu)


# --- the run -------------------------------------------------------------------------------


@dataclass
class Result:
    # Per page, each round's (alone, while voting): run one after the other, 10 s apart, so
    # the machine's other work weighs on both alike.
    rounds: dict[str, list[tuple[Reads, Reads]]] = field(default_factory=dict)
    votes: list[Votes] = field(default_factory=list)

    def best(self, page: str, mode: int) -> Reads:
        return max((pair[mode] for pair in self.rounds[page]), key=lambda r: r.requests_per_s)

    def ratio(self, page: str) -> float:
        """The median over the rounds of while-voting / alone throughput."""
        ratios = [
            voting.requests_per_s / alone.requests_per_s for alone, voting in self.rounds[page]
        ]
        return statistics.median(ratios)


def measure(server: LiveServer, questions: list[int], args: argparse.Namespace) -> Result:
    """Each page alone and while voting, ``args.repeat`` interleaved rounds."""
    result = Result()
    voter = 0
    for round_ in range(args.repeat):
        for page in PAGES if round_ % 2 == 0 else tuple(reversed(PAGES)):
            server.get(page)  # warm: the first view fills the cache
            alone = wrk(server, page, args.duration, args.connections)
            print(f"  round {round_ + 1} {page:12} alone   {alone.requests_per_s:8.0f} req/s")
            thread, votes = run_voters(
                server.port, questions, args.votes_per_second, args.duration, voter, round_
            )
            voter += votes.planned  # fresh addresses for every round
            time.sleep(TOKEN_MIN_AGE + 0.5)  # the first voters are reading their page
            voting = wrk(server, page, args.duration, args.connections)
            thread.join(timeout=args.duration + 2 * TOKEN_MIN_AGE + 3 * VOTE_TIMEOUT + 10)
            print(
                f"  round {round_ + 1} {page:12} voting  {voting.requests_per_s:8.0f} req/s "
                f"({votes.counted} votes counted: {dict(votes.statuses)})"
            )
            result.rounds.setdefault(page, []).append((alone, voting))
            result.votes.append(votes)
    return result


def report(result: Result, args: argparse.Namespace) -> bool:
    """Print the table and the verdicts; True when every target is met."""
    print()
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s --latency -H 'Accept-Encoding: br', "
        f"{args.repeat} rounds; votes at {args.votes_per_second:g}/s from distinct 127.1.x.y "
        "addresses. req/s: the best round; ratio: the median of the rounds' ratios"
    )
    print()
    print(
        "| page | alone req/s | while voting req/s | ratio | target | p99 ms alone / voting "
        "| server CPU µs per read alone / voting |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    met = True
    for page in PAGES:
        alone, voting, ratio = result.best(page, 0), result.best(page, 1), result.ratio(page)
        ok = ratio >= TARGETS[page]
        met = met and ok
        print(
            f"| `{page}` | {alone.requests_per_s:,.0f} | {voting.requests_per_s:,.0f} | "
            f"{ratio:.3f} | >= {TARGETS[page]} {'met' if ok else 'MISSED'} | "
            f"{alone.p99_ms:.1f} / {voting.p99_ms:.1f} | "
            f"{alone.cpu_us_per_read:.0f} / {voting.cpu_us_per_read:.0f} |"
        )
    posts = sorted(s for votes in result.votes for s in votes.post_seconds)
    counted = sum(votes.counted for votes in result.votes)
    sent = sum(len(votes.post_seconds) for votes in result.votes)
    median = posts[len(posts) // 2] * 1e3 if posts else float("nan")
    print(f"\nvotes: {counted} of {sent} counted (303), POST median {median:.1f} ms")
    return met and counted == sent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (5)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (3)")
    parser.add_argument("--questions", type=int, default=3_000)
    parser.add_argument("--votes-per-second", type=float, default=10.0)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print(
            "mixed_load.py needs wrk: apt-get install -y wrk (or: make load-mixed)", file=sys.stderr
        )
        return 2
    work = Path(tempfile.mkdtemp(prefix="greenweb-mixed-"))
    try:
        started = time.perf_counter()
        questions = build_database(work / "greenweb.db", args.questions)
        print(
            f"database: the seed bulletin, {args.questions} questions "
            f"({len(questions)} published) in {time.perf_counter() - started:.1f}s"
        )
        server = LiveServer.greenweb(work / "server", work / "greenweb.db")
        with server.start(START_TIMEOUT):
            result = measure(server, questions, args)
        return 0 if report(result, args) else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
