"""greenweb.footprint.report: the JSON document, the text table and the Markdown summary."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from greenweb.footprint.budget import Budget
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.measure import PageResult, Report, Skipped
from greenweb.footprint.report import (
    JSON_SCHEMA_VERSION,
    dumps,
    render_markdown,
    render_table,
    to_json,
)

GLOBAL = CarbonModel()
MEASURED_AT = datetime(2021, 9, 4, tzinfo=UTC)


def test_json_report_has_a_versioned_stable_shape(measured_page: PageResult) -> None:
    report = Report((measured_page,), (Skipped("deep", "one page"),), GLOBAL, MEASURED_AT, "x")
    one_request = Budget(page={"requests": 1}, resource={}, routes={})
    document = json.loads(dumps(to_json(report, one_request)))
    assert document["schema"] == "greenweb-footprint"
    assert document["schema_version"] == JSON_SCHEMA_VERSION == 1
    assert document["model"]["grid_intensity_g_per_kwh"]["network"] == 494.0
    page = document["pages"][0]
    assert set(page) == {
        "id", "path", "label", "expected_status", "status", "content_type", "html",
        "raw_bytes", "document", "subresources", "first_view", "repeat_view", "js_bytes",
        "font_bytes", "third_party", "cookies", "dom_elements", "cpu_us",
    }  # fmt: skip
    assert set(page["document"]) == {"br", "gzip", "identity"}
    assert page["first_view"]["transfer_bytes"] == measured_page.first_view.wire_bytes
    assert document["skipped"] == [{"id": "deep", "reason": "one page"}]
    assert document["check"]["passed"] is False
    assert document["check"]["violations"] == [
        {"page": "page", "path": "/", "limit": "requests", "measured": 2, "maximum": 1}
    ]


def test_json_report_names_the_carbon_model(measured_page: PageResult) -> None:
    italy = CarbonModel.from_setting("ita", True)
    model = to_json(Report((measured_page,), (), italy, MEASURED_AT, "x"))["model"]
    assert model["grid"] == "ITA" and model["green_hosting"] is True
    assert model["grid_intensity_g_per_kwh"] == {
        "data_center": 287.75,
        "network": 287.75,
        "device": 287.75,
        "embodied": 494.0,
    }


def test_table_and_markdown_name_every_page(
    measured_page: PageResult, measured_stylesheet: PageResult
) -> None:
    report = Report((measured_page, measured_stylesheet), (), GLOBAL, MEASURED_AT, "x")
    table = render_table(report)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["page", "status", "enc"]
    assert lines[2].startswith("page ") and lines[3].startswith("css ")
    assert len(lines[0]) == len(lines[1])  # the rule is as wide as the header
    assert "SWD v4 (CO2.js 0.19.0), grid global (494 g/kWh), grey hosting" in table
    markdown = render_markdown(report, [])
    assert "**Budget: all pages pass.**" in markdown
    assert "| page | `/` | 200 |" in markdown and "| css | `/s.css` | 200 |" in markdown


def test_table_writes_grams_to_four_significant_digits(measured_page: PageResult) -> None:
    light = replace(measured_page, first_view=replace(measured_page.first_view, co2e_g=0.0022))
    row = render_table(Report((light,), (), GLOBAL, MEASURED_AT, "x")).splitlines()[2]
    assert " 0.002200 " in row
