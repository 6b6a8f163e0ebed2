"""Many concurrent clients against a live server, bounded by a deadline."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx2

from support.servers import LiveServer


@dataclass(frozen=True)
class Outcome:
    index: int
    status: int | None  # None: no answer (refused, reset, timed out)
    error: str | None = None
    location: str | None = None
    body: bytes = b""


@dataclass
class LoadResult:
    outcomes: list[Outcome]
    skipped: int  # requests not sent because the deadline passed

    def statuses(self) -> Counter[int | None]:
        return Counter(o.status for o in self.outcomes)

    def answered(self, status: int) -> list[Outcome]:
        """The requests the server acknowledged with ``status`` (e.g. 303 for a post)."""
        return [o for o in self.outcomes if o.status == status]

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is None]

    def server_errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status is not None and o.status >= 500]


RequestFn = Callable[[httpx2.Client, int], httpx2.Response]


def run_load(
    server: LiveServer,
    request: RequestFn,
    *,
    count: int,
    clients: int,
    deadline: float = 120.0,
    keep_body: bool = False,
    at: tuple[int, Callable[[], None]] | None = None,
) -> LoadResult:
    """Send ``count`` requests from ``clients`` concurrent clients, each with its own
    connection pool; ``request(client, i)`` sends request number ``i``.

    Bounded: no request starts after ``deadline`` seconds (they count as ``skipped``).
    ``at=(n, action)`` runs ``action`` once, when ``n`` requests have finished (kill the
    server mid-load, for instance); requests failing after it are recorded, not raised.
    """
    local = threading.local()
    pools: list[httpx2.Client] = []
    pools_lock = threading.Lock()
    done = 0
    done_lock = threading.Lock()
    fired = threading.Event()
    ends = time.monotonic() + deadline
    skipped = 0

    def client() -> httpx2.Client:
        if not hasattr(local, "client"):
            local.client = server.client(follow_redirects=False)
            with pools_lock:
                pools.append(local.client)
        pool: httpx2.Client = local.client
        return pool

    def one(index: int) -> Outcome | None:
        nonlocal done, skipped
        if time.monotonic() > ends:
            with done_lock:
                skipped += 1
            return None
        try:
            response = request(client(), index)
            outcome = Outcome(
                index,
                response.status_code,
                location=response.headers.get("location"),
                body=response.content if keep_body else b"",
            )
        except httpx2.TransportError as error:
            outcome = Outcome(index, None, error=f"{type(error).__name__}: {error}")
        with done_lock:
            done += 1
            trigger = at is not None and done >= at[0] and not fired.is_set()
            if trigger:
                fired.set()
        if trigger and at is not None:
            at[1]()
        return outcome

    try:
        with ThreadPoolExecutor(max_workers=clients) as pool:
            results = list(pool.map(one, range(count)))
    finally:
        for pool_client in pools:
            pool_client.close()
    return LoadResult([r for r in results if r is not None], skipped)


def client_address(index: int) -> str:
    """A distinct address per simulated client, from 198.18.0.0/15 (RFC 2544, benchmarks).

    Send it as ``X-Forwarded-For`` to a server started with ``args=["--proxy-headers"]``
    (uvicorn trusts that header from 127.0.0.1) so per-client limits and "anch'io"
    counting see many people instead of one.
    """
    if not 0 <= index < 2**17:
        raise ValueError(index)
    return f"198.{18 + (index >> 16)}.{(index >> 8) & 255}.{index & 255}"


def assert_no_server_errors(result: LoadResult) -> None:
    errors = result.server_errors()
    assert not errors, f"{len(errors)} answers >= 500, first: {errors[:3]}"
