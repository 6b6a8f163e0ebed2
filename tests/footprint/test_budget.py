"""greenweb.footprint.budget: the budget file, and the check naming every limit exceeded."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from greenweb.cli.footprint import measure_app, output
from greenweb.footprint.budget import (
    Budget,
    BudgetError,
    check,
    check_ebook,
    check_email,
    default_budget_path,
    load_budget,
    parse_budget,
)
from greenweb.footprint.carbon import CarbonModel
from greenweb.footprint.measure import PageResult, Report, Target

REPO = Path(__file__).resolve().parents[2]
GLOBAL = CarbonModel()
MEASURED_AT = datetime(2021, 9, 4, tzinfo=UTC)


def report_of(*results: PageResult) -> Report:
    return Report(results, (), GLOBAL, MEASURED_AT, "http://testserver")


def budget(**page: int) -> Budget:
    return Budget(page=page, resource={}, routes={})


def bloated_app() -> Starlette:
    """Everything the budget forbids, on one page."""
    cells = "".join(f"<span>{i}</span>" for i in range(400))
    filler = "x" * 50_000
    html = (
        '<!doctype html><html><head><link rel="stylesheet" '
        'href="https://cdn.example.net/framework.css"><script>console.log("hi")</script>'
        f'</head><body><img src="https://cdn.example.net/hero.jpg" alt="">{cells}'
        f"<p>{filler}</p></body></html>"
    )

    async def page(request: Request) -> Response:
        response = HTMLResponse(html)
        response.set_cookie("visitor", "1")
        return response

    return Starlette(routes=[Route("/gonfia", page)])


# --- the file --------------------------------------------------------------------------------


def test_the_repository_budget_holds_the_numbers_of_budget_md() -> None:
    repo = load_budget(REPO / "footprint-budget.toml")
    assert repo.page == {
        "transfer_bytes": 14_600,
        "document_br_bytes": 10_240,
        "requests": 2,
        "repeat_requests": 1,
        "js_bytes": 0,
        "font_bytes": 0,
        "third_party": 0,
        "cookies": 0,
        "dom_elements": 300,
    }
    assert repo.routes["home"] == {"transfer_bytes": 10_240}
    assert repo.resource["cookies"] == 0 and repo.resource["third_party"] == 0
    assert repo.email == {"numero_bytes": 20_000}  # issue 13: a numero e-mail of the seed
    assert repo.ebook == {"bytes": 102_400}


def test_the_default_budget_is_the_repository_one_in_a_checkout() -> None:
    assert default_budget_path().read_bytes() == (REPO / "footprint-budget.toml").read_bytes()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 1\n[page]\ntransfer_byte = 1\n", "page.transfer_byte: unknown key"),
        ("schema = 1\n[pages]\n", "pages: unknown key"),
        ("schema = 1\n[routes.home]\ncolour = 1\n", "routes.home.colour: unknown key"),
        ("schema = 1\n[page]\nrequests = -1\n", "page.requests: expected a whole number"),
        ("schema = 1\n[page]\nrequests = true\n", "page.requests: expected a whole number"),
        ("schema = 1\n[page]\nrequests = 1.5\n", "page.requests: expected a whole number"),
        ("schema = 1\npage = 3\n", "page: expected a table"),
        ("schema = 1\n[email]\ntransfer_bytes = 1\n", "email.transfer_bytes: unknown key"),
        ("schema = 1\n[email]\nnumero_bytes = -1\n", "email.numero_bytes: expected a whole"),
        ("schema = 1\n[ebook]\ntransfer_bytes = 1\n", "ebook.transfer_bytes: unknown key"),
        ("[page]\n", "schema: expected 1"),
        ("schema = [", "not valid TOML"),
    ],
)
def test_a_bad_budget_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(BudgetError, match=message.replace(".", r"\.")):
        parse_budget(text, "b.toml")


def test_a_missing_budget_file_is_a_budget_error(tmp_path: Path) -> None:
    with pytest.raises(BudgetError, match="cannot read"):
        load_budget(tmp_path / "none.toml")


# --- the check -------------------------------------------------------------------------------


def test_route_limits_override_the_page_limits(measured_page: PageResult) -> None:
    strict = Budget(
        page={"transfer_bytes": 100_000}, resource={}, routes={"page": {"transfer_bytes": 10}}
    )
    [violation] = check(report_of(measured_page), strict)
    assert (violation.page, violation.limit, violation.maximum) == ("page", "transfer_bytes", 10)


def test_an_unexpected_status_is_a_violation(measured_page: PageResult) -> None:
    not_found = replace(measured_page, status=404)
    [violation] = check(report_of(not_found), budget())
    assert (violation.limit, violation.measured, violation.maximum) == ("status", 404, 200)
    assert str(violation) == "page (/): status 404, expected 200"


def test_a_bloated_page_fails_the_check_naming_the_page_and_every_limit() -> None:
    repo = load_budget(REPO / "footprint-budget.toml")
    target = Target("gonfia", "/gonfia", "Pagina gonfia")
    report = asyncio.run(
        measure_app(bloated_app(), model=GLOBAL, targets=[target], base_url="http://testserver")
    )
    found = {v.limit: v for v in check(report, repo)}
    assert set(found) == {
        "transfer_bytes",
        "document_br_bytes",
        "requests",
        "repeat_requests",
        "js_bytes",
        "third_party",
        "cookies",
        "dom_elements",
    }
    assert found["cookies"].measured == 1
    # html, head, link, script, body, img, 400 span, p
    assert found["dom_elements"].measured == 407
    assert found["requests"].measured == 3  # the document and two requests to another host
    assert found["third_party"].measured == 2
    assert found["js_bytes"].measured == len('console.log("hi")')
    assert found["document_br_bytes"].measured > 50_000

    out = io.StringIO()
    status = output(report, repo, fmt="table", check=True, out=out)
    assert status == 1
    text = out.getvalue()
    for limit in found:
        assert f"gonfia (/gonfia): {limit} " in text
    assert "budget: 8 limits exceeded on 1 pages" in text


def test_a_page_within_budget_passes_the_check(page_app: Callable[..., Starlette]) -> None:
    target = Target("page", "/", "Pagina")
    report = asyncio.run(
        measure_app(page_app(), model=GLOBAL, targets=[target], base_url="http://testserver")
    )
    out = io.StringIO()
    repo = load_budget(REPO / "footprint-budget.toml")
    assert output(report, repo, fmt="table", check=True, out=out) == 0
    assert "budget: all 1 pages within budget" in out.getvalue()


def test_a_numero_email_over_its_limit_is_a_violation() -> None:
    budget = parse_budget("schema = 1\n[email]\nnumero_bytes = 100\n")
    assert check_email(100, 1, budget) is None
    violation = check_email(101, 1, budget)
    assert violation is not None
    assert str(violation) == "email-numero-1 (e-mail): numero_bytes 101 > 100 (over by 1)"
    assert check_email(10**6, 1, parse_budget("schema = 1\n")) is None


def test_an_ebook_over_its_limit_is_a_violation() -> None:
    budget = parse_budget("schema = 1\n[ebook]\nbytes = 100\n")
    assert check_ebook(100, budget) is None
    violation = check_ebook(101, budget)
    assert violation is not None
    assert str(violation) == "ebook (/domande/ebook.epub): bytes 101 > 100 (over by 1)"
    assert check_ebook(10**6, parse_budget("schema = 1\n")) is None
