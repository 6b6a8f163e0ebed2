"""Timing helpers shared by the benchmarks: in-process CPU per view, percentiles."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.types import Message

from greenweb.asgi_client import Scope, make_scope, running


async def _drive(app: Starlette, scope: Scope, iterations: int) -> tuple[float, float, int]:
    """Call ``app`` ``iterations`` times; return (CPU seconds, wall seconds, body bytes)."""
    body_bytes = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal body_bytes
        if message["type"] == "http.response.body":
            body_bytes += len(message.get("body", b""))

    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(iterations):
        # A fresh scope per request, as a server makes one.
        await app(dict(scope), receive, send)
    return time.process_time() - cpu, time.perf_counter() - wall, body_bytes // max(iterations, 1)


async def cpu_per_view_async(
    app: Starlette, target: str, headers: Sequence[tuple[bytes, bytes]], iterations: int
) -> float:
    """Microseconds of CPU per view of ``target``, after one warming request."""
    path, _, query = target.partition("?")
    scope = make_scope("GET", path, query.encode(), list(headers))
    await _drive(app, scope, 1)
    cpu, _, _ = await _drive(app, scope, iterations)
    return cpu / iterations * 1e6


def cpu_per_view(
    app: Starlette, target: str, headers: Sequence[tuple[bytes, bytes]], iterations: int = 20_000
) -> float:
    async def run() -> float:
        async with running(app):
            return await cpu_per_view_async(app, target, headers, iterations)

    return asyncio.run(run())


async def wall_times_async(
    app: Starlette, target: str, headers: Sequence[tuple[bytes, bytes]], rounds: int
) -> list[float]:
    """Wall seconds of each of ``rounds`` views (after one warming view)."""
    path, _, query = target.partition("?")
    scope = make_scope("GET", path, query.encode(), list(headers))
    await _drive(app, scope, 1)
    times = []
    for _ in range(rounds):
        _, wall, _ = await _drive(app, scope, 1)
        times.append(wall)
    return times


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)
