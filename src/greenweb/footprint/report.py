"""The footprint report as people and programs read it: a text table, Markdown, JSON.

:func:`render_table` is what ``greenweb footprint`` prints, :func:`render_markdown` a
summary for CI job summaries, :func:`to_json` the ``--json`` document (see README,
"Footprint"), whose shape :data:`JSON_SCHEMA_VERSION` guards. Figures are written the
English way (``1,726`` bytes, ``0.0006447`` g): the Italian ones are ``/impronta``'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from greenweb.footprint import carbon
from greenweb.footprint.budget import Budget, Violation, check
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.measure import PageResult, Report, View

JSON_SCHEMA_VERSION: Final = 1
"""Version of the ``--json`` document; bumped on any incompatible change of its shape."""


def _us(ns: int | None) -> float | None:
    return None if ns is None else round(ns / 1000, 1)


def to_json(
    report: Report, budget: Budget | None = None, violations: Sequence[Violation] | None = None
) -> dict[str, Any]:
    """The ``--json`` document (see README, "Footprint"); ``schema_version`` guards its shape."""
    model = report.model
    document: dict[str, Any] = {
        "schema": "greenweb-footprint",
        "schema_version": JSON_SCHEMA_VERSION,
        "generated_at": report.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "base_url": report.base_url,
        "model": {
            "name": "Sustainable Web Design",
            "version": 4,
            "co2js_version": carbon.CO2JS_VERSION,
            "operational_kwh_per_gb": dict(carbon.OPERATIONAL_KWH_PER_GB),
            "embodied_kwh_per_gb": dict(carbon.EMBODIED_KWH_PER_GB),
            "grid": model.grid_label,
            "grid_intensity_g_per_kwh": {
                "data_center": model.grid.data_center,
                "network": model.grid.network,
                "device": model.grid.device,
                "embodied": carbon.GLOBAL_GRID_INTENSITY,
            },
            "green_hosting": model.green_hosting,
        },
        "pages": [_page_json(p) for p in report.pages],
        "skipped": [{"id": s.id, "reason": s.reason} for s in report.skipped],
    }
    if budget is not None:
        found = check(report, budget) if violations is None else list(violations)
        document["check"] = {
            "budget": budget.source,
            "passed": not found,
            "violations": [
                {
                    "page": v.page,
                    "path": v.path,
                    "limit": v.limit,
                    "measured": v.measured,
                    "maximum": v.maximum,
                }
                for v in found
            ],
        }
    return document


def _view_json(view: View) -> dict[str, Any]:
    return {
        "requests": view.requests,
        "transfer_bytes": view.wire_bytes,
        "co2e_g": view.co2e_g,
        "rating": view.rating,
    }


def _page_json(p: PageResult) -> dict[str, Any]:
    return {
        "id": p.id,
        "path": p.target.path,
        "label": p.target.label,
        "expected_status": p.target.expected_status,
        "status": p.status,
        "content_type": p.content_type,
        "html": p.is_html,
        "raw_bytes": p.raw_bytes,
        "document": {
            e.accept_encoding: {
                "content_encoding": e.content_encoding,
                "body_bytes": e.body_bytes,
                "header_bytes": e.header_bytes,
                "transfer_bytes": e.wire_bytes,
            }
            for e in p.document
        },
        "subresources": [
            {
                "url": r.url,
                "kind": r.kind,
                "third_party": r.third_party,
                "fetched": r.fetched,
                "status": r.status,
                "content_type": r.content_type,
                "content_encoding": r.content_encoding,
                "body_bytes": r.body_bytes,
                "header_bytes": r.header_bytes,
                "transfer_bytes": r.wire_bytes,
                "cached_on_repeat": r.cached_on_repeat,
            }
            for r in p.subresources
        ],
        "first_view": _view_json(p.first_view),
        "repeat_view": _view_json(p.repeat_view),
        "js_bytes": p.js_bytes,
        "font_bytes": p.font_bytes,
        "third_party": list(p.third_party),
        "cookies": p.cookies,
        "dom_elements": p.dom_elements,
        "cpu_us": {
            "uncached": _us(p.cpu_uncached_ns),
            "cached_median": _us(p.cpu_cached_ns),
            "cached_samples": p.cpu_samples,
        },
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


_COLUMNS: Final = (
    ("page", "<"),
    ("status", ">"),
    ("enc", "<"),
    ("raw B", ">"),
    ("br B", ">"),
    ("gzip B", ">"),
    ("1st B", ">"),
    ("req", ">"),
    ("rep", ">"),
    ("JS", ">"),
    ("3rd", ">"),
    ("ck", ">"),
    ("DOM", ">"),
    ("g CO2e 1st", ">"),
    ("g rep", ">"),
    ("", "<"),
    ("CPU µs cold", ">"),
    ("warm", ">"),
)


def _row(p: PageResult) -> list[str]:
    br = p.encoded("br")
    return [
        p.id,
        str(p.status),
        br.content_encoding or "none",
        f"{p.raw_bytes:,}",
        f"{br.body_bytes:,}",
        f"{p.encoded('gzip').body_bytes:,}",
        f"{p.first_view.wire_bytes:,}",
        str(p.first_view.requests),
        str(p.repeat_view.requests),
        f"{p.js_bytes:,}",
        str(len(p.third_party)),
        str(p.cookies),
        "-" if p.dom_elements is None else str(p.dom_elements),
        carbon.format_grams(p.first_view.co2e_g),
        carbon.format_grams(p.repeat_view.co2e_g),
        p.first_view.rating,
        f"{p.cpu_uncached_ns / 1000:,.0f}",
        "-" if p.cpu_cached_ns is None else f"{p.cpu_cached_ns / 1000:,.0f}",
    ]


def _model_line(model: CarbonModel) -> str:
    grid = model.grid
    intensity = (
        f"{grid.device:g} g/kWh"
        if grid.device == grid.network == grid.data_center
        else f"device {grid.device:g}, network {grid.network:g}, data centre "
        f"{grid.data_center:g} g/kWh"
    )
    green = "green hosting" if model.green_hosting else "grey hosting"
    return f"SWD v4 (CO2.js {carbon.CO2JS_VERSION}), grid {model.grid_label} ({intensity}), {green}"


def render_table(report: Report, violations: Sequence[Violation] | None = None) -> str:
    """An aligned plain-text table, one row per page, then the budget verdict if checked."""
    rows = [[name for name, _ in _COLUMNS]] + [_row(p) for p in report.pages]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = []
    for row in rows:
        cells = [
            cell.ljust(width) if align == "<" else cell.rjust(width)
            for cell, width, (_, align) in zip(row, widths, _COLUMNS, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(_model_line(report.model) + "; bytes over the wire as sent for br.")
    for skipped in report.skipped:
        lines.append(f"skipped {skipped.id}: {skipped.reason}")
    if violations is not None:
        lines.extend(_verdict(report, violations))
    return "\n".join(lines) + "\n"


def _verdict(report: Report, violations: Sequence[Violation]) -> list[str]:
    if not violations:
        return [f"budget: all {len(report.pages)} pages within budget"]
    pages = len({v.page for v in violations})
    lines = [f"budget: {len(violations)} limits exceeded on {pages} pages:"]
    lines.extend(f"  {v}" for v in violations)
    return lines


def render_markdown(report: Report, violations: Sequence[Violation] | None = None) -> str:
    """A GitHub-flavoured Markdown summary (for CI job summaries)."""
    header = [
        "page",
        "path",
        "status",
        "br bytes",
        "first view bytes",
        "requests (repeat)",
        "DOM",
        "g CO2e",
        "rating",
    ]
    lines = ["## Footprint", ""]
    if violations is not None:
        lines.append(
            "**Budget: all pages pass.**"
            if not violations
            else f"**Budget: {len(violations)} limits exceeded.**"
        )
        lines.append("")
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "|".join([" --- "] * 2 + [" ---: "] * (len(header) - 2)) + "|")
    for p in report.pages:
        cells = [
            p.id,
            f"`{p.target.path}`",
            str(p.status),
            f"{p.document_br_bytes:,}",
            f"{p.first_view.wire_bytes:,}",
            f"{p.first_view.requests} ({p.repeat_view.requests})",
            "" if p.dom_elements is None else str(p.dom_elements),
            carbon.format_grams(p.first_view.co2e_g),
            p.first_view.rating,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(_model_line(report.model) + ".")
    if violations:
        lines.append("")
        lines.extend(f"- {v}" for v in violations)
    for skipped in report.skipped:
        lines.append(f"\n_skipped {skipped.id}: {skipped.reason}_")
    return "\n".join(lines) + "\n"
