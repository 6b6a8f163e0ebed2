"""Benchmark fixtures: the big database, apps with the cache on and off, a runner that
calls an app in-process on one long-lived event loop, and a summary of the targets."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import bigdata
import pytest
from measure import cpu_per_view_async, wall_times_async

from greenweb.asgi_client import Captured, request, running
from greenweb.config import Settings
from greenweb.footprint.measure import Target, measure_page
from greenweb.web.app import create_app

# The big database's items are dated through 2021: a day in the middle keeps lists full.
BENCH_TODAY = date(2021, 6, 1)
BR = [(b"accept-encoding", b"gzip, deflate, br")]


@dataclass
class Runner:
    """One app, lifespan entered, driven synchronously on its own event loop."""

    settings: Settings
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)

    def __post_init__(self) -> None:
        self.app = create_app(self.settings, today=lambda: BENCH_TODAY)
        self._running: AbstractAsyncContextManager[object] = running(self.app)
        self.loop.run_until_complete(self._running.__aenter__())

    def get(self, target: str, headers: list[tuple[bytes, bytes]] | None = None) -> Captured:
        return self.loop.run_until_complete(
            request(self.app, target, headers=BR if headers is None else headers)
        )

    def cpu_us(self, target: str, iterations: int) -> float:
        return self.loop.run_until_complete(cpu_per_view_async(self.app, target, BR, iterations))

    def wall_times(self, target: str, rounds: int) -> list[float]:
        return self.loop.run_until_complete(wall_times_async(self.app, target, BR, rounds))

    def weight(self, target: str) -> dict[str, object]:
        """What the page weighs, as ``greenweb footprint`` measures it (for ``extra_info``):
        the document as sent for br, the first view's bytes, requests and grams CO2e, the
        DOM elements."""
        measured = self.loop.run_until_complete(
            measure_page(
                self.app,
                Target("bench", target, target),
                model=self.settings.carbon_model,
                base_url=self.settings.base_url,
                repeats=0,
                encodings=("br",),
            )
        )
        return {
            "document_br_bytes": measured.document_br_bytes,
            "transfer_bytes": measured.first_view.wire_bytes,
            "requests": measured.first_view.requests,
            "co2e_g": measured.first_view.co2e_g,
            "dom_elements": measured.dom_elements,
        }

    def close(self) -> None:
        self.loop.run_until_complete(self._running.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture(scope="session")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bigdata.build(tmp_path_factory.mktemp("big") / "greenweb.db")


def _settings(db: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {"db_path": db, "secret": "bench", "base_url": "http://bench"}
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def cached(big_db: Path) -> Iterator[Runner]:
    runner = Runner(_settings(big_db))
    yield runner
    runner.close()


@pytest.fixture(scope="session")
def uncached(big_db: Path) -> Iterator[Runner]:
    runner = Runner(_settings(big_db, page_cache_bytes=0))
    yield runner
    runner.close()


# --- the summary printed after the run -------------------------------------------------------

SUMMARY: list[tuple[str, str, str, bool | None]] = []  # (measure, value, target, met)


def record(measure: str, value: str, target: str, met: bool | None) -> None:
    SUMMARY.append((measure, value, target, met))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not SUMMARY:
        return
    terminalreporter.section("greenweb targets (BUDGET.md)")
    terminalreporter.write_line("| measure | value | target | met |")
    terminalreporter.write_line("| --- | ---: | --- | --- |")
    for measure, value, target, met in SUMMARY:
        mark = "" if met is None else ("yes" if met else "**no**")
        terminalreporter.write_line(f"| {measure} | {value} | {target} | {mark} |")
