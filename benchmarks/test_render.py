"""Serve time of every measured address: small and large data, page 1 and deep pages,
cached and uncached.

A round is one whole request through the app in-process (routing, database, template,
middleware), as ``greenweb.footprint`` sends it (``Accept-Encoding: br``).

* ``cached``: the same request again and again: a page-cache hit once the app has one,
  a warm render until then.
* ``uncached``: before each round (untimed) the content version is bumped, as any content
  change does, so no cache keyed on it can answer.

Deep pages (``*_deep``, the last page of a list) also carry ``page_n_vs_page_1``: their
median over page 1's, same data and mode (BUDGET.md: at most 2).

``extra_info`` carries what the page weighs: bytes over the wire (document as served for
br, first view), requests, grams CO2e per first view, DOM elements, and the median server
CPU time of the rounds (``time.process_time_ns`` around the ASGI call alone, the figure
BUDGET.md's "CPU time per cached page view" target speaks of).
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from greenweb.web.site import site_of
from render_bench import Site, rounds, selected_data_sets

# Every target id the footprint sources can give; the ones a data set or app lacks are
# skipped (deep pages need long lists; the board's pages need the board).
TARGET_IDS = (
    "home",
    "bulletin",
    "bulletin_deep",
    "bulletin_item",
    "deadlines",
    "events",
    "search",
    "search_deep",
    "feed",
    "calendar",
    "footprint",
    "carbon_txt",
    "sitemap",
    "robots",
    "not_found",
    "questions",
    "question",
    "question_new",
    "resources",
    "pills",
    "moderation_log",
    "open_data",
    "board_rules",
    # Added by conftest.board_bench_targets: each list's page 1 and last page.
    "questions_recenti",
    "questions_recenti_deep",
    "questions_condivise",
    "questions_condivise_deep",
    "questions_con-risposta",
    "questions_con-risposta_deep",
    "questions_topic",
    "questions_topic_deep",
    "pills_p1",
    "pills_p1_deep",
    "log_p1",
    "log_p1_deep",
    "question_sample",
)
DEEP = "_deep"
# Median seconds per (data, mode, target id), so a deep page can state its ratio to page 1.
MEDIANS: dict[tuple[str, str, str], float] = {}


@pytest.mark.parametrize("mode", ["cached", "uncached"])
@pytest.mark.parametrize("target_id", TARGET_IDS)
@pytest.mark.parametrize("data", ["small", "large"])
def test_serve(
    benchmark: Any, request: pytest.FixtureRequest, data: str, target_id: str, mode: str
) -> None:
    if data not in selected_data_sets():
        pytest.skip(f"GREENWEB_BENCH_DATA leaves out the {data} data set")
    site: Site = request.getfixturevalue(f"{data}_site")
    target = site.targets.get(target_id)
    if target is None:
        pytest.skip(f"no {target_id!r} address with the {data} data set")

    measured = site.measure(target)
    cpu: list[int] = []

    def serve() -> None:
        exchange = site.get(target.path)
        assert exchange.status == target.expected_status
        cpu.append(exchange.cpu_ns)

    site.get(target.path)  # warm: templates compiled, page cache filled (if any)
    setup = site.bump_content_version if mode == "uncached" else None
    benchmark.group = f"{data} data, {mode}"
    benchmark.pedantic(serve, setup=setup, rounds=rounds(), iterations=1)
    site.settle()

    if benchmark.stats is not None:  # None under --benchmark-disable
        MEDIANS[data, mode, target_id] = median = benchmark.stats.stats.median
        first = MEDIANS.get((data, mode, target_id.removesuffix(DEEP)))
        if target_id.endswith(DEEP) and first:
            benchmark.extra_info["page_n_vs_page_1"] = round(median / first, 2)
    benchmark.extra_info.update(
        {
            "data": data,
            "target": target_id,
            "path": target.path,
            "mode": mode,
            "status": measured.status,
            "content_encoding": measured.encoded("br").content_encoding,
            "document_br_bytes": measured.document_br_bytes,
            "transfer_bytes": measured.first_view.wire_bytes,
            "requests": measured.first_view.requests,
            "co2e_g": measured.first_view.co2e_g,
            "rating": measured.first_view.rating,
            "dom_elements": measured.dom_elements,
            "cpu_us_median": round(statistics.median(cpu) / 1000, 1),
        }
    )


@pytest.mark.parametrize("data", ["small", "large"])
def test_measure_site_for_impronta(
    benchmark: Any, request: pytest.FixtureRequest, data: str
) -> None:
    """What /impronta does in the background after a content change: measure every page."""
    if data not in selected_data_sets():
        pytest.skip(f"GREENWEB_BENCH_DATA leaves out the {data} data set")
    site: Site = request.getfixturevalue(f"{data}_site")
    cache = site_of(site.app).footprint
    version = [0]

    def setup() -> None:
        site.settle()
        version[0] += 1

    def measure() -> None:
        # A version the cache has not seen: the whole site is measured, as after a change.
        site.runner.run(cache.measure(site.app, site.state, -version[0]))

    benchmark.group = f"{data} data, measuring the site"
    benchmark.pedantic(measure, setup=setup, rounds=rounds(), iterations=1)
    report = cache.report
    benchmark.extra_info.update(
        {
            "data": data,
            "pages": len(report.pages),
            "transfer_bytes_total": sum(p.first_view.wire_bytes for p in report.pages),
            "co2e_g_total": sum(p.first_view.co2e_g for p in report.pages),
        }
    )
